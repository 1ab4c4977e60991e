"""The GraphQL form of report filters."""

from __future__ import annotations

from enum import Enum

import strawberry

from pulse.query.filters import Filter, check_count, make


@strawberry.enum(description="is, is_not, contains (case-insensitive), matches (a regular expression)")
class FilterOperator(Enum):
    IS = "is"
    IS_NOT = "is_not"
    CONTAINS = "contains"
    MATCHES = "matches"


@strawberry.input(description="Keep only traffic whose dimension (path, source, country, ...) matches.")
class FilterInput:
    dimension: str
    operator: FilterOperator = FilterOperator.IS
    value: str


def to_filters(inputs: list[FilterInput] | None) -> list[Filter]:
    check_count(len(inputs or ()))
    return [make(f.dimension, f.operator.value, f.value) for f in inputs or []]
