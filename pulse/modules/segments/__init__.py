"""Segments: saved visitor definitions (pulse.conditions), evaluated, broken down and compared over a
range by the visitor-set engine (pulse.query.visitorsets). See docs/segments.md."""

from pulse.modules.module import Module
from pulse.modules.segments import rest, schema, tables

MODULE = Module("segments", router=rest.router, project_fields=schema.SegmentFields, mutation=schema.Mutation,
                tables=tables.TABLES)
