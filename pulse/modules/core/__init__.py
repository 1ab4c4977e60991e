"""Core analytics: stats, timeseries, pages, referrers, events, devices, geo, realtime."""

from pulse.modules.core import payloads, reports, rest, schema, tables
from pulse.modules.module import Module

MODULE = Module("core", router=rest.router, project_fields=schema.CoreFields, reports=reports.REPORTS,
                tables=tables.TABLES, payloads=payloads.PAYLOADS)
