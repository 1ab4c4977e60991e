"""The core reports, each declared once: REST route, field of `Project`, CSV export."""

from __future__ import annotations

from dataclasses import fields
from functools import partial

from pulse.modules.core import service
from pulse.reports import Export, Param, Report, Shape

REPORTS = (
    Report("stats", "/stats", service.stats, service.StatsComparison, Shape.ONE,
           description="Overview with the previous period's numbers.",
           export=Export(item=service.Summary, rows=lambda result: [result.current])),
    Report("timeseries", "/stats/timeseries", service.timeseries, service.TimePoint, Shape.SERIES, hours=True,
           params=(Param("interval", str, "day"),), description="interval: hour, day, week or month."),
    Report("pages", "/pages", service.pages, service.Page, export=Export()),
    Report("entry_pages", "/pages/entry", service.entry_pages, service.EntryPage,
           description="Pages sessions began on."),
    Report("exit_pages", "/pages/exit", service.exit_pages, service.ExitPage, description="Pages sessions ended on."),
    Report("channels", "/channels", partial(service.breakdown, dimension="channel"), service.Share,
           rest_names={"name": "channel"},
           description="Visitors by channel (Direct, Organic Search, Organic Social, Referral, ...)."),
    Report("referrers", "/referrers", service.referrers, service.Source, export=Export()),
    Report("events", "/events", service.events, service.EventCount, list_name="EventList", export=Export()),
    Report("devices", "/devices", service.devices, service.Devices, Shape.ONE, limit=True,
           description="The `first` browsers, systems and device types.",
           # One table of the three breakdowns: `group` is browsers, operating_systems or
           # device_types (the REST keys); `limit` applies to each group.
           export=Export(columns=("group", "name", "visitors", "percentage"), rows=lambda devices: [
               (group.name, s.name, s.visitors, s.percentage)
               for group in fields(devices) for s in getattr(devices, group.name)])),
    Report("geo", "/geo", partial(service.breakdown, dimension="country"), service.Share,
           rest_names={"name": "country"}, description="Visitors by country (ISO 3166 alpha-2).", export=Export()),
)
