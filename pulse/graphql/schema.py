"""One schema from every part's Query and Mutation types (the platform's, then every installed
module's), with depth and cost limits."""

from __future__ import annotations

import logging

import strawberry
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from pulse.admin import schema as admin_schema
from pulse.admin.webhooks import schema as webhooks_schema
from pulse.config import Settings
from pulse.graphql.context import Admission
from pulse.graphql.cost import cost_rule
from pulse.graphql.errors import ApiErrors
from pulse.modules.installed import installed
from pulse.privacy import schema as privacy_schema

# The platform's parts (not modules: projects, keys, privacy settings); modules plug in their own.
QUERIES = (admin_schema.Query, webhooks_schema.Query, privacy_schema.Query)
MUTATIONS = (admin_schema.Mutation, webhooks_schema.Mutation, privacy_schema.Mutation)


def module_parts() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Every Query and Mutation type: the platform's, then each installed module's."""
    modules = installed()
    return (QUERIES + tuple(m.query for m in modules if m.query),
            MUTATIONS + tuple(m.mutation for m in modules if m.mutation))


class PulseSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # ApiErrors (the extension) logs what is unexpected; expected errors are not noise.
        pass


def build_schema(settings: Settings | None = None, *, queries: tuple[type, ...] | None = None,
                 mutations: tuple[type, ...] | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    if queries is None or mutations is None:
        queries, mutations = module_parts()
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
