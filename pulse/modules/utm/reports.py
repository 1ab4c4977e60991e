"""The UTM reports, each declared once: REST route, field of `Project`, CSV export.

Lists add `total` (every value in the range, before `limit`/`offset`), as the core lists do. The
timeseries rows are the reference's `date`, `visitors` and `pageviews` (GraphQL adds `sessions`).
"""

from __future__ import annotations

from pulse.modules.core.service import Source
from pulse.modules.utm import service
from pulse.reports import Export, Param, Report, Shape

REPORTS = (
    Report("campaigns", "/campaigns", service.campaigns, service.Campaign,
           description="Campaigns (utm_campaign) by visitors.", export=Export()),
    Report("campaign_sources", "/campaigns/sources", service.sources, Source, description="UTM sources by visitors."),
    Report("campaign_mediums", "/campaigns/mediums", service.mediums, service.UtmMedium,
           description="UTM mediums by visitors."),
    # utm_source is checked by the service (400), after the access check, on both faces.
    Report("campaign_timeseries", "/campaigns/timeseries", service.timeseries, service.CampaignPoint,
           Shape.SERIES, params=(Param("utm_source", str | None, None, graphql_type=str),),
           rest_fields=("date", "visitors", "pageviews"),
           description="One utm_source per day, every day of the range."),
)
