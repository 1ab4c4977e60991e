"""Identity's fields of `Project`: profiles, the identity graph, accounts and their analytics,
over the same services as the REST routes (so the same numbers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pulse.auth import need
from pulse.definitions import Connection, connection
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.identity import service
from pulse.modules.registry import Action
from pulse.reports import days_for, object_type

IDENTITY = need("identity", "query")
readable = [allow(IDENTITY)]
IdentityGraph = object_type(service.IdentityGraph)
AccountAnalytics = object_type(service.AccountAnalytics)
UserAlias = object_type(service.UserAlias)
TimelineSession = object_type(service.TimelineSession)
AccountMembership = object_type(service.AccountMembership)


async def _caller(info: Info, project_uuid: UUID):
    return await info.context.authorize(IDENTITY, project_uuid, Action.READ)


@strawberry.type(description="A visitor's profile: traits merged over every identify call.")
class Profile:
    project_uuid: strawberry.Private[UUID]
    visitor_id: str
    user_id: str | None
    traits: JSON
    first_seen_at: datetime
    last_seen_at: datetime
    accounts: list[AccountMembership] = strawberry.field(description="The accounts the visitor belongs to, "
                                                              "most recently seen first (empty in lists).")

    @classmethod
    def of(cls, project_uuid: UUID, p: service.Profile) -> Profile:
        return cls(project_uuid=project_uuid, visitor_id=p.visitor_id, user_id=p.user_id, traits=p.traits,
                   first_seen_at=p.first_seen_at, last_seen_at=p.last_seen_at, accounts=p.accounts)

    @strawberry.field(permission_classes=readable, description="The visitor's latest sessions, newest first, each "
                                                               "with its pageviews and events.")
    async def timeline(self, info: Info, limit: int = service.DEFAULT_TIMELINE_SESSIONS) -> list[TimelineSession]:
        caller = await _caller(info, self.project_uuid)
        return await service.timeline(session=info.context.session, project_id=caller.project_id,
                                      visitor_id=self.visitor_id, limit=limit)

    @strawberry.field(permission_classes=readable, description="Every visitor id linked to this profile's user.")
    async def aliases(self, info: Info) -> list[UserAlias]:
        if self.user_id is None:
            return []
        caller = await _caller(info, self.project_uuid)
        items, _ = await service.aliases(session=info.context.session, project_id=caller.project_id,
                                         user_id=self.user_id, limit=1000, offset=0)
        return items


@strawberry.type
class AccountMember:
    visitor_id: str
    user_id: str | None
    role: str | None
    last_seen_at: datetime


@strawberry.type(description="An account (company) from identify calls, with its merged traits.")
class Account:
    project_uuid: strawberry.Private[UUID]
    account_id: str
    traits: JSON
    member_count: int = strawberry.field(description="Visitors attached to the account.")
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, project_uuid: UUID, a: service.Account) -> Account:
        return cls(project_uuid=project_uuid, account_id=a.account_id, traits=a.traits, member_count=a.members,
                   first_seen_at=a.first_seen_at, last_seen_at=a.last_seen_at)

    @strawberry.field(permission_classes=readable, description="Members, most recently seen first.")
    async def members(self, info: Info, first: int = 100, after: str | None = None) -> Connection[AccountMember]:
        window = Window.of(first, after)
        caller = await _caller(info, self.project_uuid)
        rows, total = await service.members(session=info.context.session, project_id=caller.project_id,
                                            account_id=self.account_id, **window.bounds)
        return connection(window, rows, total, lambda m: AccountMember(visitor_id=m.visitor_id, user_id=m.user_id,
                                                                role=m.role, last_seen_at=m.last_seen_at))

    @strawberry.field(permission_classes=readable, description="The members' activity over the range (the "
                                                               "project's days, both ends included).")
    async def analytics(self, info: Info, start_at: str | None = None, end_at: str | None = None) -> AccountAnalytics:
        caller = await _caller(info, self.project_uuid)
        return await service.analytics(session=info.context.session, project_id=caller.project_id,
                                       timezone=caller.project.timezone, account_id=self.account_id,
                                       days=days_for(caller, start_at, end_at))


Ids = Annotated[list[str] | None, strawberry.argument(description="Start nodes.")]


@strawberry.type
class IdentityFields:
    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=readable, description="Profiles, most recently seen first. `search`: a "
                      "case-insensitive substring of the visitor id, user id or any trait value; `key:value` "
                      "searches one trait.")
    async def profiles(self, info: Info, first: int = 100, after: str | None = None,
                       search: str | None = None) -> Connection[Profile]:
        window = Window.of(first, after)
        caller = await _caller(info, self.project_uuid)
        rows, total = await service.profiles(session=info.context.session, project_id=caller.project_id,
                                             search=search, **window.bounds)
        return connection(window, rows, total, lambda p: Profile.of(self.project_uuid, p))

    @strawberry.field(permission_classes=readable, description="One profile; an unknown visitor is NOT_FOUND.")
    async def profile(self, info: Info, visitor_id: str) -> Profile:
        caller = await _caller(info, self.project_uuid)
        return Profile.of(self.project_uuid, await service.profile(
            session=info.context.session, project_id=caller.project_id, visitor_id=visitor_id))

    @strawberry.field(permission_classes=readable, description="Visitor ids ever linked to a user id.")
    async def aliases(self, info: Info, user_id: str, first: int = 100, after: str | None = None
                      ) -> Connection[UserAlias]:
        window = Window.of(first, after)
        caller = await _caller(info, self.project_uuid)
        rows, total = await service.aliases(session=info.context.session, project_id=caller.project_id,
                                            user_id=user_id, **window.bounds)
        return connection(window, rows, total, lambda a: a)

    @strawberry.field(permission_classes=readable, description="Visitor, user and account nodes with alias, "
                      f"identify and membership edges, breadth first from the start nodes, up to `limit` nodes "
                      f"(at most {service.MAX_GRAPH_LIMIT}).")
    async def identity_graph(self, info: Info, visitor_ids: Ids = None, user_ids: Ids = None,
                             account_ids: Ids = None, limit: int = service.DEFAULT_GRAPH_LIMIT) -> IdentityGraph:
        caller = await _caller(info, self.project_uuid)
        return await service.graph(session=info.context.session, project_id=caller.project_id,
                                   visitor_ids=visitor_ids or [], user_ids=user_ids or [],
                                   account_ids=account_ids or [], limit=limit)

    @strawberry.field(permission_classes=readable, description="Accounts, most recently seen first.")
    async def accounts(self, info: Info, first: int = 100, after: str | None = None) -> Connection[Account]:
        window = Window.of(first, after)
        caller = await _caller(info, self.project_uuid)
        rows, total = await service.accounts(session=info.context.session, project_id=caller.project_id,
                                             **window.bounds)
        return connection(window, rows, total, lambda a: Account.of(self.project_uuid, a))

    @strawberry.field(permission_classes=readable, description="One account; an unknown id is NOT_FOUND.")
    async def account(self, info: Info, id: str) -> Account:
        caller = await _caller(info, self.project_uuid)
        return Account.of(self.project_uuid, await service.account(
            session=info.context.session, project_id=caller.project_id, account_id=id))
