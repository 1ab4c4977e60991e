"""SCIM provisioning, part of the identity module: the reference's routes
(/api/v1/identity/scim/...), the standard SCIM 2.0 surface (/scim/v2/...), their GraphQL fields
and mutations, and their tables. See docs/scim.md.

`Module` takes one router and one type of `Project` fields, so identity's package joins its own
to these with `router_with` and `fields_with`."""

from __future__ import annotations

import strawberry
from fastapi import APIRouter

from pulse.modules.identity.scim import rest, schema, tables, v2

TABLES = tables.TABLES
Mutation = schema.Mutation
ScimFields = schema.ScimFields


def router_with(other: APIRouter | None) -> APIRouter:
    """One router: `other`'s routes, then SCIM's (reference and SCIM 2.0)."""
    combined = APIRouter()
    if other is not None:
        combined.include_router(other)
    combined.include_router(rest.router)
    combined.include_router(v2.router)
    return combined


def fields_with(other: type | None, name: str = "IdentityProjectFields") -> type:
    """One Strawberry type of `Project` fields: `other`'s, and SCIM's."""
    bases = (other, ScimFields) if other is not None else (ScimFields,)
    return strawberry.type(type(name, bases, {"__annotations__": {}}))
