"""`permission_classes=[allow(need)]` on every field: the REST access check, for GraphQL."""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import OperationType
from strawberry.permission import BasePermission
from strawberry.types import Info

from pulse.auth import Need
from pulse.modules.registry import Action


def target_project(source: Any, kwargs: dict[str, Any]) -> Any:
    """The project a field acts on: a `project_id` argument, else the parent object's project."""
    if kwargs.get("project_id") is not None:
        return kwargs["project_id"]
    return getattr(source, "project_uuid", None)


@cache
def allow(need: Need) -> type[BasePermission]:
    class Allowed(BasePermission):
        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            action = Action.WRITE if info.operation.operation == OperationType.MUTATION else Action.READ
            await info.context.authorize(need, target_project(source, kwargs), action)
            return True

    Allowed.__name__ = f"Allowed_{need.module or ('platform' if need.platform else 'project')}"
    return Allowed
