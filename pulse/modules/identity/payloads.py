"""Identity's payload type: identify.

  identify         IdentifyData. All optional (anonymous trait-only identifies are valid):
                   `user_id` (common field), `traits` object, and the account the visitor
                   belongs to, either flat as `account_id` / `account_traits` / `account_role`
                   or as one object `account: {"id", "traits", "role"}` -- not both.

An identify has no table of its own: the writer merges its traits into the visitor's profile,
records the user alias and attaches the visitor to the account (`identities`, a `Write` sink).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from pulse.ingest.fields import Invalid, freeform, ident, missing, must, opt_str, string
from pulse.ingest.records import Record
from pulse.ingest.sinks import Write
from pulse.limits import MAX_TRAIT_BYTES, MAX_TRAIT_KEYS
from pulse.modules.module import Payload
from pulse.timestamps import from_micros

_json = msgspec.json.encode


class IdentifyData(msgspec.Struct, tag="identify", tag_field="kind"):
    traits: dict[str, Any]
    account_id: str | None = None
    account_traits: dict[str, Any] = {}
    account_role: str | None = None


def parse_identify(d: dict[str, Any]) -> IdentifyData:
    traits = freeform(d.get("traits"), "traits")
    account = d.get("account")
    if account is None:
        acc_id = d.get("account_id")
        acc_traits = freeform(d.get("account_traits"), "account_traits")
        role = opt_str(d, "account_role", 200)
        prefix = "account_"
    else:
        if type(account) is not dict:
            raise must("account", "an object")
        if any(k in d for k in ("account_id", "account_traits", "account_role")):
            raise Invalid("send the account either as 'account' or as 'account_id'/'account_traits', not both.")
        acc_id = account.get("id")
        acc_traits = freeform(account.get("traits"), "account.traits")
        role = account.get("role")
        role = None if role is None else string(role, "account.role", 200)
        prefix = "account."
    acc_id = None if acc_id is None else ident(acc_id, prefix + "id")
    if acc_id is None and (acc_traits or role):
        raise missing(prefix + "id")
    return IdentifyData(traits, acc_id, acc_traits, role)


def _merged_traits(table: str) -> str:
    """Traits merged over `table`'s stored ones, within MAX_TRAIT_KEYS keys and MAX_TRAIT_BYTES:
    past either bound, known traits still update but new keys are dropped; an update that would
    still pass the byte bound leaves the stored traits as they are."""
    merged = f"{table}.traits || excluded.traits"
    known = (f"{table}.traits || COALESCE((SELECT jsonb_object_agg(k, v) FROM jsonb_each(excluded.traits) AS e(k, v) "
             f"WHERE {table}.traits ? k), '{{}}'::jsonb)")
    return (f"CASE WHEN (SELECT count(*) FROM jsonb_object_keys({merged})) <= {MAX_TRAIT_KEYS} "
            f"AND octet_length(({merged})::text) <= {MAX_TRAIT_BYTES} THEN {merged} "
            f"WHEN octet_length(({known})::text) <= {MAX_TRAIT_BYTES} THEN {known} "
            f"ELSE {table}.traits END")


async def identities(conn: asyncpg.Connection, project_id: UUID, records: list[Record]) -> None:
    """Merge traits into profiles (bounded: _merged_traits), record user aliases, attach visitors
    to accounts."""
    for r in records:
        when, data = from_micros(r.ts), r.data
        await conn.execute(
            "INSERT INTO identity_profiles (project_id, visitor_id, visitor_no, user_id, traits, first_seen_at, "
            "last_seen_at) VALUES ($1, $2, (SELECT visitor_no FROM visitors WHERE project_id = $1 "
            "AND visitor_id = $2), $3, $4::jsonb, $5, $5) ON CONFLICT (project_id, visitor_id) DO UPDATE SET "
            "visitor_no = excluded.visitor_no, "
            "user_id = COALESCE(excluded.user_id, identity_profiles.user_id), "
            f"traits = {_merged_traits('identity_profiles')}, "
            "last_seen_at = GREATEST(identity_profiles.last_seen_at, excluded.last_seen_at), "
            "first_seen_at = LEAST(identity_profiles.first_seen_at, excluded.first_seen_at)",
            project_id, r.visitor_id, r.user_id, _json(data.traits).decode(), when)
        if r.user_id:
            await conn.execute(
                "INSERT INTO identity_aliases (project_id, user_id, visitor_id, created_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT DO NOTHING", project_id, r.user_id, r.visitor_id, when)
        if data.account_id:
            await conn.execute(
                "INSERT INTO identity_accounts (project_id, account_id, traits, first_seen_at, last_seen_at) "
                "VALUES ($1, $2, $3::jsonb, $4, $4) ON CONFLICT (project_id, account_id) DO UPDATE SET "
                f"traits = {_merged_traits('identity_accounts')}, "
                "last_seen_at = GREATEST(identity_accounts.last_seen_at, excluded.last_seen_at)",
                project_id, data.account_id, _json(data.account_traits).decode(), when)
            await conn.execute(
                "INSERT INTO account_members (project_id, account_id, visitor_id, user_id, role, last_seen_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, account_id, visitor_id) DO UPDATE SET "
                "user_id = COALESCE(excluded.user_id, account_members.user_id), "
                "role = COALESCE(excluded.role, account_members.role), "
                "last_seen_at = GREATEST(account_members.last_seen_at, excluded.last_seen_at)",
                project_id, data.account_id, r.visitor_id, r.user_id, data.account_role, when)


PAYLOADS = (Payload("identify", parse_identify, IdentifyData, sink=Write(identities)),)
