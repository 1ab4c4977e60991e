"""Funnels: saved multi-step conversion funnels (pageviews of a path, events by name) and how many
visitors reach each step over a range, in order, strictly in order or in any order within a
conversion window, with exclusions, time to convert and a breakdown. See docs/funnels.md."""

from pulse.modules.funnels import rest, schema, tables
from pulse.modules.module import Module

MODULE = Module("funnels", router=rest.router, project_fields=schema.FunnelFields, mutation=schema.Mutation,
                tables=tables.TABLES)
