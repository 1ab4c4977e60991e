"""One schema from every part's Query and Mutation types, with depth and cost limits."""

from __future__ import annotations

import logging

import strawberry
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from pulse.admin import schema as admin_schema
from pulse.config import Settings
from pulse.graphql.context import Admission
from pulse.graphql.cost import cost_rule
from pulse.graphql.errors import ApiErrors
from pulse.privacy import schema as privacy_schema

# Each part of Pulse that has a GraphQL face lists its types here.
QUERIES = (admin_schema.Query, privacy_schema.Query)
MUTATIONS = (admin_schema.Mutation, privacy_schema.Mutation)


class PulseSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # ApiErrors (the extension) logs what is unexpected; expected errors are not noise.
        pass


def build_schema(settings: Settings | None = None, *, queries: tuple[type, ...] = QUERIES,
                 mutations: tuple[type, ...] = MUTATIONS) -> strawberry.Schema:
    settings = settings or Settings()
    return PulseSchema(
        query=merge_types("Query", queries),
        mutation=merge_types("Mutation", mutations),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
            lambda: AddValidationRules([cost_rule(settings.graphql_max_cost)]),
            Admission,
            ApiErrors,
        ],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"


logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
