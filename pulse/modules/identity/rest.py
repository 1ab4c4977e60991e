"""/api/v1/identity/...: profiles, aliases, the identity graph, accounts and their analytics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from pulse.auth import Caller, need
from pulse.definitions import Paging, listing
from pulse.deps import SessionDep, requires
from pulse.modules.identity import service
from pulse.reports import EndAt, StartAt, days_for
from pulse.timestamps import iso_utc

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])
IdentityQuery = Annotated[Caller, requires(need("identity", "query"))]
Ids = Annotated[list[str] | None, Query(description="Repeatable.")]


def profile_item(p: service.Profile) -> dict[str, Any]:
    """A profile as the reference's list shows it."""
    return {"visitor_id": p.visitor_id, "user_id": p.user_id, "traits": p.traits,
            "last_seen_at": iso_utc(p.last_seen_at)}


def membership(m: service.AccountMembership) -> dict[str, Any]:
    return {"account_id": m.account_id, "role": m.role, "last_seen_at": iso_utc(m.last_seen_at)}


def profile_body(p: service.Profile) -> dict[str, Any]:
    return {"visitor_id": p.visitor_id, "user_id": p.user_id, "traits": p.traits,
            "first_seen_at": iso_utc(p.first_seen_at), "last_seen_at": iso_utc(p.last_seen_at),
            "accounts": [membership(m) for m in p.accounts]}


def account_body(a: service.Account) -> dict[str, Any]:
    return {"account_id": a.account_id, "traits": a.traits, "members": a.members,
            "first_seen_at": iso_utc(a.first_seen_at), "last_seen_at": iso_utc(a.last_seen_at)}


def member_body(m: service.Member) -> dict[str, Any]:
    return {"visitor_id": m.visitor_id, "user_id": m.user_id, "role": m.role, "last_seen_at": iso_utc(m.last_seen_at)}


@router.get("/profiles", description="Profiles, most recently seen first. `search`: a case-insensitive substring "
                                     "of the visitor id, user id or any trait value; `key:value` searches one trait.")
async def profiles(caller: IdentityQuery, session: SessionDep, window: Paging,
                   search: Annotated[str | None, Query()] = None) -> dict:
    items, total = await service.profiles(session=session, project_id=caller.project_id, search=search,
                                          **window.bounds)
    return listing(items, total, profile_item)


@router.get("/profiles/{visitor_id}")
async def profile(visitor_id: str, caller: IdentityQuery, session: SessionDep) -> dict:
    return profile_body(await service.profile(session=session, project_id=caller.project_id, visitor_id=visitor_id))


@router.get("/users/{user_id}/aliases")
async def aliases(user_id: str, caller: IdentityQuery, session: SessionDep, window: Paging) -> dict:
    items, total = await service.aliases(session=session, project_id=caller.project_id, user_id=user_id,
                                         **window.bounds)
    return {"user_id": user_id, **listing(items, total, lambda a: {"visitor_id": a.visitor_id,
                                                                   "created_at": iso_utc(a.created_at)})}


@router.get("/graph", description="Nodes and edges reachable from the given visitor, user and account ids "
                                  f"(each repeatable), breadth first, up to `limit` nodes (default "
                                  f"{service.DEFAULT_GRAPH_LIMIT}, at most {service.MAX_GRAPH_LIMIT}).")
async def graph(caller: IdentityQuery, session: SessionDep, visitor_id: Ids = None, user_id: Ids = None,
                account_id: Ids = None, limit: Annotated[int, Query()] = service.DEFAULT_GRAPH_LIMIT) -> dict:
    found = await service.graph(session=session, project_id=caller.project_id, visitor_ids=visitor_id or [],
                                user_ids=user_id or [], account_ids=account_id or [], limit=limit)
    return asdict(found)


@router.get("/accounts")
async def accounts(caller: IdentityQuery, session: SessionDep, window: Paging) -> dict:
    items, total = await service.accounts(session=session, project_id=caller.project_id, **window.bounds)
    return listing(items, total, account_body)


@router.get("/accounts/{account_id}")
async def account(account_id: str, caller: IdentityQuery, session: SessionDep) -> dict:
    return account_body(await service.account(session=session, project_id=caller.project_id, account_id=account_id))


@router.get("/accounts/{account_id}/members")
async def members(account_id: str, caller: IdentityQuery, session: SessionDep, window: Paging) -> dict:
    items, total = await service.members(session=session, project_id=caller.project_id, account_id=account_id,
                                         **window.bounds)
    return listing(items, total, member_body)


@router.get("/accounts/{account_id}/analytics", description="The members' activity over the range (the "
                                                             "project's days, start_at and end_at included).")
async def analytics(account_id: str, caller: IdentityQuery, session: SessionDep, start_at: StartAt = None,
                    end_at: EndAt = None) -> dict:
    days = days_for(caller, start_at, end_at)
    return asdict(await service.analytics(session=session, project_id=caller.project_id,
                                          timezone=caller.project.timezone, account_id=account_id, days=days))
