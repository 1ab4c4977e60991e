"""SCIM provisioning: users and groups, one set of records behind both the reference's routes
(/api/v1/identity/scim/...) and the standard SCIM 2.0 surface (/scim/v2/...). Plain async
functions taking a keyword-only session and the project; the caller commits.

Values are the columns of pulse.modules.identity.scim.tables (SCIM's own spelling inside `name`
and `emails`). Every write of a user refreshes its identity profile, visitor `scim:{id}`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import errors
from pulse.db import as_uuid
from pulse.definitions import BodyModel, Definitions, validated
from pulse.graphql.paging import Window
from pulse.limits import MAX_FREEFORM_BYTES, MAX_FREEFORM_DEPTH
from pulse.modules.identity.scim.tables import ScimGroup, ScimGroupMember, ScimUser
from pulse.modules.identity.tables import identity_profiles

USERS = Definitions(ScimUser, noun="SCIM user")
GROUPS = Definitions(ScimGroup, noun="SCIM group")
VISITOR_PREFIX = "scim:"
MAX_TEXT = 1024
MAX_MEMBERS = 10_000
MAX_EMAILS = 100
# REST's snake_case names for SCIM's `name` sub-attributes.
NAME_PARTS = {"formatted": "formatted", "family_name": "familyName", "given_name": "givenName",
              "middle_name": "middleName", "honorific_prefix": "honorificPrefix",
              "honorific_suffix": "honorificSuffix"}


class Conflict(errors.ApiError):
    status, code = 409, "CONFLICT"
    scim_type = "uniqueness"


class UnknownMember(errors.BadRequest):
    scim_type = "invalidValue"


# -- bodies of the reference's routes ---------------------------------------------------------

class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str
    primary: bool = False
    type: str | None = None
    display: str | None = None


class NameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    honorific_prefix: str | None = None
    honorific_suffix: str | None = None


def _text(value: str | None, *, required: bool = False) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if required and not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    return value or None


class UserIn(BodyModel):
    user_name: str
    external_id: str | None = None
    active: bool = True
    display_name: str | None = None
    name: NameIn | None = None
    emails: list[EmailIn] = []
    traits: dict[str, Any] = {}

    @field_validator("user_name")
    @classmethod
    def _user_name(cls, value: str) -> str:
        return _text(value, required=True)

    @field_validator("external_id", "display_name")
    @classmethod
    def _optional(cls, value: str | None) -> str | None:
        return _text(value)

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[EmailIn]) -> list[EmailIn]:
        check_emails([e.model_dump() for e in value])
        return value


class GroupIn(BodyModel):
    display_name: str
    external_id: str | None = None
    traits: dict[str, Any] = {}
    members: list[str] = []

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        return _text(value, required=True)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return _text(value)

    @field_validator("members")
    @classmethod
    def _members(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_MEMBERS:
            raise ValueError(f"must list at most {MAX_MEMBERS} users")
        return value


def check_storable(values: Mapping[str, Any]) -> None:
    """What PostgreSQL would refuse, refused first as a 400: NUL characters (text and JSONB hold
    none), NaN and infinities, and free-form objects past the shared limits (pulse.limits)."""
    def walk(value: Any, depth: int) -> None:
        if depth > MAX_FREEFORM_DEPTH:
            raise errors.BadRequest(f"Invalid request body: objects may nest at most {MAX_FREEFORM_DEPTH} deep.")
        if isinstance(value, str):
            if "\x00" in value:
                raise errors.BadRequest("Invalid request body: text may not contain NUL characters.")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise errors.BadRequest("Invalid request body: numbers must be finite.")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key, depth)
                walk(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item, depth + 1)

    for name, value in values.items():
        walk(value, 0)
        if isinstance(value, (dict, list)) and len(json.dumps(value, default=str)) > MAX_FREEFORM_BYTES:
            raise errors.BadRequest(f"Invalid request body: field '{name}' is over {MAX_FREEFORM_BYTES} bytes.")


def check_emails(emails: Sequence[Mapping[str, Any]]) -> None:
    if len(emails) > MAX_EMAILS:
        raise ValueError(f"must list at most {MAX_EMAILS} addresses")
    if sum(1 for e in emails if e.get("primary")) > 1:
        raise ValueError("may mark only one address primary")
    for email in emails:
        if not isinstance(email.get("value"), str) or not email["value"].strip():
            raise ValueError("every address needs a non-empty 'value'")


def normal_emails(emails: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Emails as stored: the value trimmed and lower-cased, `primary` always present, the optional
    `type` and `display` only when given."""
    out = []
    for email in emails:
        item: dict[str, Any] = {"value": str(email["value"]).strip().lower(), "primary": bool(email.get("primary"))}
        for extra in ("type", "display"):
            if email.get(extra) is not None:
                item[extra] = str(email[extra])
        out.append(item)
    return out


def user_values(body: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """A reference-route body as column values (400 in the shared wording when it is wrong)."""
    values = validated(UserIn, body, partial=partial)
    if "emails" in values:
        values["emails"] = normal_emails(values["emails"])
    if "name" in values:
        given = values["name"]
        if given is not None and not isinstance(given, dict):
            raise errors.BadRequest("Invalid request body: field 'name': Input should be an object.")
        values["name"] = ({NAME_PARTS[k]: v for k, v in given.items() if v is not None} or None) if given else None
    for key in ("traits",):
        if key in values and values[key] is None:
            values[key] = {}
    return values


def group_values(body: Mapping[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], list[str] | None]:
    """A reference-route group body as column values, and its member ids (None: not given)."""
    values = validated(GroupIn, body, partial=partial)
    members = values.pop("members", None)
    if values.get("traits", {}) is None:
        values["traits"] = {}
    return values, members


# -- users ------------------------------------------------------------------------------------

def visitor_id(user: ScimUser) -> str:
    return f"{VISITOR_PREFIX}{user.id}"


def primary_email(user: ScimUser) -> str | None:
    emails = user.emails or []
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    return chosen["value"] if chosen else None


def profile_traits(user: ScimUser) -> dict[str, Any]:
    """What the synced profile shows: the user's own traits, then the provisioned attributes
    (which win a clash: they are what the identity provider says)."""
    provisioned = {"user_name": user.user_name, "external_id": user.external_id, "display_name": user.display_name,
                   "email": primary_email(user), "emails": [e["value"] for e in user.emails or []],
                   "active": user.active, "source": "scim"}
    return {**(user.traits or {}), **{k: v for k, v in provisioned.items() if v is not None}}


async def _sync_profile(session: AsyncSession, user: ScimUser) -> None:
    values = {"project_id": user.project_id, "visitor_id": visitor_id(user), "user_id": user.user_name,
              "traits": profile_traits(user), "first_seen_at": user.created_at, "last_seen_at": user.updated_at}
    statement = insert(identity_profiles).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[identity_profiles.c.project_id, identity_profiles.c.visitor_id],
        set_={k: statement.excluded[k] for k in ("user_id", "traits", "last_seen_at")}))


async def _unique_user_name(session: AsyncSession, project_id: UUID, user_name: str,
                            exclude: UUID | None = None) -> None:
    query = select(ScimUser.id).where(ScimUser.project_id == project_id,
                                      func.lower(ScimUser.user_name) == user_name.lower())
    if exclude is not None:
        query = query.where(ScimUser.id != exclude)
    if (await session.execute(query.limit(1))).first() is not None:
        raise Conflict(f"A SCIM user with user_name '{user_name}' already exists.")


async def create_user(*, session: AsyncSession, project_id: UUID, values: Mapping[str, Any]) -> ScimUser:
    """Provision a user (values from `user_values` or the SCIM 2.0 face) and its profile."""
    check_storable(values)
    await _unique_user_name(session, project_id, values["user_name"])
    user = await USERS.create(session=session, project_id=project_id, values=values)
    await _sync_profile(session, user)
    return user


async def get_user(*, session: AsyncSession, project_id: UUID, user_id: str | UUID) -> ScimUser:
    """One provisioned user, or 404."""
    return await USERS.get(session=session, project_id=project_id, id=user_id)


async def list_users(*, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[ScimUser], int]:
    """The reference's list: newest first, with the total."""
    return await USERS.page(session=session, project_id=project_id, window=window)


async def update_user(*, session: AsyncSession, project_id: UUID, user_id: str | UUID,
                      values: Mapping[str, Any]) -> ScimUser:
    """Change the fields in `values` (all of them for a SCIM replace) and refresh the profile."""
    check_storable(values)
    current = await USERS.get(session=session, project_id=project_id, id=user_id)
    if "user_name" in values:
        await _unique_user_name(session, project_id, values["user_name"], exclude=current.id)
    user = await USERS.update(session=session, project_id=project_id, id=current.id,
                              values={**values, "updated_at": func.clock_timestamp()})
    await _sync_profile(session, user)
    return user


async def delete_user(*, session: AsyncSession, project_id: UUID, user_id: str | UUID) -> None:
    """Deprovision a user: its group memberships and its synced profile go with it."""
    user = await USERS.get(session=session, project_id=project_id, id=user_id)
    await USERS.delete(session=session, project_id=project_id, id=user.id)
    await session.execute(delete(identity_profiles).where(identity_profiles.c.project_id == project_id,
                                                          identity_profiles.c.visitor_id == visitor_id(user)))


async def search_users(*, session: AsyncSession, project_id: UUID, where: ColumnElement[bool] | None,
                       offset: int, limit: int) -> tuple[list[ScimUser], int]:
    """The SCIM 2.0 list: users matching `where` (pulse.modules.identity.scim.filters), oldest first
    so that startIndex paging is stable while an identity provider walks it."""
    return await _search(session, ScimUser, project_id, where, offset, limit)


async def _search(session: AsyncSession, table: Any, project_id: UUID, where: ColumnElement[bool] | None,
                  offset: int, limit: int) -> tuple[list[Any], int]:
    conditions = [table.project_id == project_id] + ([where] if where is not None else [])
    total = (await session.execute(select(func.count()).select_from(table).where(*conditions))).scalar_one()
    if limit == 0 or total <= offset:
        return [], total
    rows = (await session.execute(select(table).where(*conditions).order_by(table.created_at, table.id)
                                  .offset(offset).limit(limit))).scalars()
    return list(rows), total


# -- groups -----------------------------------------------------------------------------------

async def _checked_members(session: AsyncSession, project_id: UUID, members: Sequence[str]) -> list[UUID]:
    """The member ids, each an existing SCIM user of the project (400 naming the first that is
    not), duplicates dropped, in the order given."""
    given_ids: list[tuple[Any, UUID]] = []
    for given in members:
        parsed = as_uuid(given) if isinstance(given, str) else None
        if parsed is None:
            raise UnknownMember(f"Invalid request body: field 'members': unknown SCIM user '{given}'.")
        given_ids.append((given, parsed))
    ids = list(dict.fromkeys(parsed for _, parsed in given_ids))
    if ids:
        known = set((await session.execute(select(ScimUser.id).where(
            ScimUser.project_id == project_id, ScimUser.id.in_(ids)))).scalars())
        for given, parsed in given_ids:
            if parsed not in known:
                raise UnknownMember(f"Invalid request body: field 'members': unknown SCIM user '{given}'.")
    return ids


async def _set_members(session: AsyncSession, group: ScimGroup, ids: list[UUID]) -> None:
    await session.execute(delete(ScimGroupMember).where(ScimGroupMember.project_id == group.project_id,
                                                        ScimGroupMember.group_id == group.id))
    if ids:
        await session.execute(insert(ScimGroupMember), [
            {"project_id": group.project_id, "group_id": group.id, "user_id": user_id, "position": position}
            for position, user_id in enumerate(ids)])


async def create_group(*, session: AsyncSession, project_id: UUID, values: Mapping[str, Any],
                       members: Sequence[str] = ()) -> ScimGroup:
    """A group whose members are existing SCIM users of the project."""
    check_storable(values)
    ids = await _checked_members(session, project_id, members)
    group = await GROUPS.create(session=session, project_id=project_id, values=values)
    await _set_members(session, group, ids)
    return group


async def get_group(*, session: AsyncSession, project_id: UUID, group_id: str | UUID) -> ScimGroup:
    """One group, or 404."""
    return await GROUPS.get(session=session, project_id=project_id, id=group_id)


async def list_groups(*, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[ScimGroup], int]:
    """The reference's list: newest first, with the total."""
    return await GROUPS.page(session=session, project_id=project_id, window=window)


async def search_groups(*, session: AsyncSession, project_id: UUID, where: ColumnElement[bool] | None,
                        offset: int, limit: int) -> tuple[list[ScimGroup], int]:
    """The SCIM 2.0 list of groups, oldest first."""
    return await _search(session, ScimGroup, project_id, where, offset, limit)


async def update_group(*, session: AsyncSession, project_id: UUID, group_id: str | UUID,
                       values: Mapping[str, Any], members: Sequence[str] | None = None) -> ScimGroup:
    """Change the fields in `values`; `members`, when given, replaces the whole member list."""
    check_storable(values)
    current = await GROUPS.get(session=session, project_id=project_id, id=group_id)
    ids = None if members is None else await _checked_members(session, project_id, members)
    group = await GROUPS.update(session=session, project_id=project_id, id=current.id,
                                values={**values, "updated_at": func.clock_timestamp()})
    if ids is not None:
        await _set_members(session, group, ids)
    return group


async def delete_group(*, session: AsyncSession, project_id: UUID, group_id: str | UUID) -> None:
    """Remove a group (its users stay)."""
    await GROUPS.delete(session=session, project_id=project_id, id=group_id)


async def members_of(*, session: AsyncSession, project_id: UUID,
                     group_ids: Sequence[UUID]) -> dict[UUID, list[ScimUser]]:
    """The members of each group, in their order, in one statement."""
    found: dict[UUID, list[ScimUser]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return found
    rows = await session.execute(
        select(ScimGroupMember.group_id, ScimUser)
        .join(ScimUser, (ScimUser.project_id == ScimGroupMember.project_id) & (ScimUser.id == ScimGroupMember.user_id))
        .where(ScimGroupMember.project_id == project_id, ScimGroupMember.group_id.in_(list(group_ids)))
        .order_by(ScimGroupMember.group_id, ScimGroupMember.position))
    for group_id, user in rows:
        found[group_id].append(user)
    return found


async def groups_of(*, session: AsyncSession, project_id: UUID,
                    user_ids: Sequence[UUID]) -> dict[UUID, list[ScimGroup]]:
    """The groups each user belongs to (SCIM's read-only `User.groups`), in one statement."""
    found: dict[UUID, list[ScimGroup]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return found
    rows = await session.execute(
        select(ScimGroupMember.user_id, ScimGroup)
        .join(ScimGroup, (ScimGroup.project_id == ScimGroupMember.project_id)
              & (ScimGroup.id == ScimGroupMember.group_id))
        .where(ScimGroupMember.project_id == project_id, ScimGroupMember.user_id.in_(list(user_ids)))
        .order_by(ScimGroupMember.user_id, ScimGroup.created_at, ScimGroup.id))
    for user_id, group in rows:
        found[user_id].append(group)
    return found
