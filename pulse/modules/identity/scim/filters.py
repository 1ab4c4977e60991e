"""SCIM filters (RFC 7644 3.4.2.2) as SQLAlchemy conditions, over a whitelist of attributes.

scim2-models parses the filter (`ScimFilter(text).ast`: comparisons, presence tests, `not`,
`and`/`or`, value paths such as `emails[type eq "work"]`); this module walks that tree and maps
each attribute it allows onto a column or a JSONB element, with every value bound as a parameter.
An attribute outside the whitelist, or a value of the wrong type, is an `invalidFilter` error.
String comparisons are case-insensitive except for `externalId` and `id` (caseExact in RFC 7643).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim2_models import SCIMException, ScimFilter
from scim2_models.path.expressions import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import Boolean, ColumnElement, Text, and_, column, exists, false, func, not_, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from pulse.db import as_uuid
from pulse.modules.identity.scim.tables import ScimGroup, ScimGroupMember, ScimUser

MAX_FILTER = 2048
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class InvalidFilter(ValueError):
    """A filter that cannot be parsed or names what cannot be filtered on (400 invalidFilter)."""


@dataclass(frozen=True)
class Attr:
    """A filterable attribute: its SQL expression and how values compare with it."""

    expr: Any
    kind: str = "text"  # text (case-insensitive), exact (case-sensitive text), bool, time, uuid


def _compare(attr: Attr, op: CompareOperator, value: Any, where: str) -> ColumnElement[bool]:
    expr = attr.expr
    if attr.kind == "bool":
        if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilter(f"'{where}' is a boolean: compare it with eq or ne and true or false.")
        return expr.is_(value) if op == CompareOperator.eq else expr.is_not(value)
    if value is None:
        if op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilter(f"'{where}' can be compared with null only by eq or ne.")
        return expr.is_(None) if op == CompareOperator.eq else expr.is_not(None)
    if not isinstance(value, str):
        raise InvalidFilter(f"'{where}' takes a string value.")
    if attr.kind == "uuid":
        if op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilter(f"'{where}' can be compared only by eq or ne.")
        parsed = as_uuid(value)
        matched = false() if parsed is None else expr == parsed
        return matched if op == CompareOperator.eq else not_(matched)
    if attr.kind == "time":
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidFilter(f"'{where}' takes a timestamp such as \"2026-05-01T00:00:00Z\".") from None
        if value.tzinfo is None:
            raise InvalidFilter(f"'{where}' takes a timestamp with a time zone (\"Z\" for UTC).")
        if op in (CompareOperator.co, CompareOperator.sw, CompareOperator.ew):
            raise InvalidFilter(f"'{where}' is a timestamp: co, sw and ew do not apply.")
    elif attr.kind == "text":
        expr, value = func.lower(expr), value.lower()
    return {
        CompareOperator.eq: lambda: expr == value,
        CompareOperator.ne: lambda: or_(expr != value, expr.is_(None)),
        CompareOperator.co: lambda: expr.contains(value, autoescape=True),
        CompareOperator.sw: lambda: expr.startswith(value, autoescape=True),
        CompareOperator.ew: lambda: expr.endswith(value, autoescape=True),
        CompareOperator.gt: lambda: expr > value,
        CompareOperator.ge: lambda: expr >= value,
        CompareOperator.lt: lambda: expr < value,
        CompareOperator.le: lambda: expr <= value,
    }[op]()


@dataclass(frozen=True)
class Multi:
    """A multi-valued attribute (emails, members): a condition over one of its values."""

    any: Callable[[Callable[[dict[str, Attr]], ColumnElement[bool]]], ColumnElement[bool]]
    default: str  # the sub-attribute `emails eq "x"` means: value


def _emails_any(condition: Callable[[dict[str, Attr]], ColumnElement[bool]]) -> ColumnElement[bool]:
    element = func.jsonb_array_elements(ScimUser.emails).table_valued(column("value", JSONB)).alias("email")
    parts = {"value": Attr(element.c.value["value"].astext), "type": Attr(element.c.value["type"].astext),
             "display": Attr(element.c.value["display"].astext),
             "primary": Attr(element.c.value["primary"].astext.cast(Boolean), "bool")}
    return exists(select(1).select_from(element).where(condition(parts)))


def _members_any(condition: Callable[[dict[str, Attr]], ColumnElement[bool]]) -> ColumnElement[bool]:
    member = ScimGroupMember.__table__.alias("member")
    parts = {"value": Attr(member.c.user_id, "uuid")}
    return exists(select(1).select_from(member).where(
        member.c.project_id == ScimGroup.project_id, member.c.group_id == ScimGroup.id, condition(parts)))


def _name(part: str) -> Attr:
    return Attr(ScimUser.name[part].astext)


USER_ATTRS: dict[str, Attr | Multi] = {
    "id": Attr(ScimUser.id, "uuid"),
    "username": Attr(ScimUser.user_name),
    "externalid": Attr(ScimUser.external_id, "exact"),
    "displayname": Attr(ScimUser.display_name),
    "active": Attr(ScimUser.active, "bool"),
    "name.givenname": _name("givenName"),
    "name.familyname": _name("familyName"),
    "name.formatted": _name("formatted"),
    "meta.created": Attr(ScimUser.created_at, "time"),
    "meta.lastmodified": Attr(ScimUser.updated_at, "time"),
    "emails": Multi(_emails_any, "value"),
}
GROUP_ATTRS: dict[str, Attr | Multi] = {
    "id": Attr(ScimGroup.id, "uuid"),
    "displayname": Attr(ScimGroup.display_name),
    "externalid": Attr(ScimGroup.external_id, "exact"),
    "meta.created": Attr(ScimGroup.created_at, "time"),
    "meta.lastmodified": Attr(ScimGroup.updated_at, "time"),
    "members": Multi(_members_any, "value"),
}


class _Translator:
    def __init__(self, attrs: dict[str, Attr | Multi], schema: str) -> None:
        self.attrs = attrs
        self.schema = schema.lower()

    def _lookup(self, path: AttrPath) -> tuple[str, Attr | Multi, str | None]:
        if path.uri and path.uri.lower() != self.schema:
            raise InvalidFilter(f"Filtering on '{path.uri}:{path.attr}' is not supported.")
        name = path.attr.lower()
        if name in self.attrs and isinstance(self.attrs[name], Multi):
            return path.attr, self.attrs[name], path.sub_attr
        full = f"{name}.{path.sub_attr.lower()}" if path.sub_attr else name
        where = f"{path.attr}.{path.sub_attr}" if path.sub_attr else path.attr
        if full not in self.attrs:
            raise InvalidFilter(f"Filtering on '{where}' is not supported.")
        return where, self.attrs[full], None

    def node(self, node: FilterNode, scope: dict[str, Attr] | None = None) -> ColumnElement[bool]:
        if isinstance(node, LogicalExpr):
            parts = [self.node(term, scope) for term in node.terms]
            return and_(*parts) if node.op == LogicalOperator.and_ else or_(*parts)
        if isinstance(node, Not):
            return not_(self.node(node.expr, scope))
        if isinstance(node, ValuePath):
            if scope is not None:
                raise InvalidFilter("A value filter cannot hold another.")
            where, found, _ = self._lookup(node.attr_path)
            if not isinstance(found, Multi):
                raise InvalidFilter(f"'{where}' is not multi-valued: '[...]' does not apply.")
            return found.any(lambda parts: self.node(node.val_filter, parts))
        if isinstance(node, (Comparison, Present)):
            return self._leaf(node, scope)
        raise InvalidFilter("Unsupported filter expression.")

    def _leaf(self, node: Comparison | Present, scope: dict[str, Attr] | None) -> ColumnElement[bool]:
        path = node.attr_path
        if scope is not None:  # inside emails[...]: sub-attributes of one value
            name = path.attr
            if path.sub_attr or name.lower() not in scope:
                raise InvalidFilter(f"Filtering on '{name}' inside a value filter is not supported.")
            return self._test(scope[name.lower()], node, name)
        where, found, sub = self._lookup(path)
        if isinstance(found, Multi):
            sub_name = (sub or found.default)

            def inner(parts: dict[str, Attr]) -> ColumnElement[bool]:
                if sub_name.lower() not in parts:
                    raise InvalidFilter(f"Filtering on '{where}.{sub_name}' is not supported.")
                return self._test(parts[sub_name.lower()], node, f"{where}.{sub_name}")
            return found.any(inner)
        return self._test(found, node, where)

    @staticmethod
    def _test(attr: Attr, node: Comparison | Present, where: str) -> ColumnElement[bool]:
        if isinstance(node, Present):
            if attr.kind in ("bool", "uuid", "time"):
                return attr.expr.is_not(None)
            return and_(attr.expr.is_not(None), func.cast(attr.expr, Text) != "")
        return _compare(attr, node.op, node.value, where)


def parse(text: str) -> FilterNode:
    if len(text) > MAX_FILTER:
        raise InvalidFilter(f"The filter is longer than {MAX_FILTER} characters.")
    try:
        return ScimFilter(text).ast
    except SCIMException as exc:
        raise InvalidFilter(f"Invalid filter: {exc.detail or exc}.") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidFilter(f"Invalid filter: {exc}.") from None


def user_condition(text: str | None) -> ColumnElement[bool] | None:
    """The condition a users filter stands for (None: no filter)."""
    return None if text is None or not text.strip() else _Translator(USER_ATTRS, USER_SCHEMA).node(parse(text))


def group_condition(text: str | None) -> ColumnElement[bool] | None:
    """The condition a groups filter stands for (None: no filter)."""
    return None if text is None or not text.strip() else _Translator(GROUP_ATTRS, GROUP_SCHEMA).node(parse(text))


__all__ = ["InvalidFilter", "group_condition", "user_condition"]
