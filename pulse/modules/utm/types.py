"""GraphQL types of the UTM reports (the same numbers as the REST face)."""

from __future__ import annotations

from datetime import date

import strawberry

from pulse.graphql.paging import Listing


@strawberry.type
class Campaign:
    campaign: str
    visitors: int
    pageviews: int
    bounce_rate: float
    avg_duration: float = strawberry.field(description="Mean session duration, seconds.")


@strawberry.type
class CampaignList(Listing):
    data: list[Campaign]


@strawberry.type
class UtmSource:
    source: str
    visitors: int
    pageviews: int


@strawberry.type
class UtmSourceList(Listing):
    data: list[UtmSource]


@strawberry.type
class UtmMedium:
    medium: str
    visitors: int
    pageviews: int


@strawberry.type
class UtmMediumList(Listing):
    data: list[UtmMedium]


@strawberry.type
class CampaignPoint:
    date: date
    visitors: int
    pageviews: int
    sessions: int = strawberry.field(description="Sessions that started that day.")
