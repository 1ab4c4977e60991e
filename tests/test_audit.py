"""The audit log: each audited change writes exactly one entry, in its own transaction, with the right
actor and object; failed changes write none; the trail is listed newest first, admin only, per
project, the same on both faces; and the database refuses to change it."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pulse import audit
from pulse.admin import service as admin_service
from pulse.auth import Caller
from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header

TRAIL = "/api/v1/audit-logs"
FIELDS = {"id", "action", "actor_type", "actor_id", "object_type", "object_id", "details", "created_at"}
HOOK = "https://hooks.slack.com/services/T00/B00/xxxxx"  # a public name: stored, never called here
SECRET = "whsec_audit_secret_2026"
# Until the access check binds its caller (pulse.audit.acting), saved definitions record the system.


@pytest.fixture
async def site(client) -> dict:
    """A project with an admin, a query and an ingest key (their creation is the trail's start)."""
    project = await create_project(client, "Audited", "audited.test")
    admin = await create_key(client, project["id"], "admin", name="Admin")
    query = await create_key(client, project["id"], "query")
    ingest = await create_key(client, project["id"], "ingest")
    return {"id": project["id"], "admin": key_header(admin["key"]), "admin_id": admin["id"],
            "query": key_header(query["key"]), "ingest": key_header(ingest["key"]),
            "as_token": {"project_id": project["id"]}}


async def trail(client, headers: dict, **params) -> dict:
    response = await client.get(TRAIL, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def since(client, site, total: int) -> list[dict]:
    """The entries written after the trail held `total`, oldest first."""
    body = await trail(client, site["admin"])
    return list(reversed(body["data"][:body["total"] - total]))


async def count(client, site) -> int:
    return (await trail(client, site["admin"], limit=1))["total"]


def brief(entry: dict) -> tuple:
    return entry["action"], entry["actor_type"], entry["actor_id"], entry["object_type"], entry["object_id"]


# -- keys, modules, privacy settings ------------------------------------------------------------

async def test_key_creation_is_recorded_with_the_admin_token_as_actor(client, site):
    before = await count(client, site)
    created = await client.post(f"/api/admin/projects/{site['id']}/keys", headers=ADMIN, json={
        "name": "CI", "scopes": ["query"], "expires_at": "2099-01-01T00:00:00Z"})
    assert created.status_code == 201
    [entry] = await since(client, site, before)
    assert set(entry) == FIELDS
    assert brief(entry) == ("key.create", "admin_token", None, "api_key", created.json()["id"])
    assert entry["details"] == {"name": "CI", "scopes": ["query"], "allowed_modules": None,
                                "expires_at": "2099-01-01T00:00:00Z"}
    assert created.json()["key"] not in str(entry)


async def test_key_revocation_is_recorded_with_the_admin_keys_id(client, site):
    doomed = await create_key(client, site["id"], "query", name="Doomed")
    before = await count(client, site)
    revoked = await client.delete(f"/api/admin/projects/{site['id']}/keys/{doomed['id']}", headers=site["admin"])
    assert revoked.status_code == 204
    [entry] = await since(client, site, before)
    assert brief(entry) == ("key.revoke", "api_key", site["admin_id"], "api_key", doomed["id"])
    assert entry["details"] == {"name": "Doomed"}


async def test_module_changes_record_what_changed_one_entry_per_module(client, site):
    base = f"/api/admin/projects/{site['id']}/modules"
    before = await count(client, site)
    assert (await client.post(f"{base}/goals/disable", headers=site["admin"])).status_code == 200
    [entry] = await since(client, site, before)
    assert brief(entry) == ("module.update", "api_key", site["admin_id"], "module", "goals")
    assert entry["details"] == {"enabled": {"from": True, "to": False}}

    before = await count(client, site)
    assert (await client.post(f"{base}/goals/disable", headers=site["admin"])).status_code == 200
    assert await since(client, site, before) == []  # already disabled: nothing changed, nothing recorded

    before = await count(client, site)
    bulk = await client.put(base, headers=ADMIN, json={"modules": [
        {"name": "goals", "enabled": True}, {"name": "funnels", "access": "read"}]})
    assert bulk.status_code == 200
    entries = await since(client, site, before)
    assert sorted((e["object_id"], e["actor_type"], e["details"]) for e in entries) == [
        ("funnels", "admin_token", {"access": {"from": "all", "to": "read"}}),
        ("goals", "admin_token", {"enabled": {"from": False, "to": True}})]


async def test_privacy_settings_changes_record_the_changed_fields(client, site):
    before = await count(client, site)
    put = await client.put("/api/v1/privacy/settings", headers=site["admin"],
                           json={"respect_dnt": False, "blocked_user_agents": ["synthetic-monitor"],
                                 "bot_filtering": True})
    assert put.status_code == 200
    [entry] = await since(client, site, before)
    assert brief(entry) == ("privacy_settings.update", "api_key", site["admin_id"], "privacy_settings", site["id"])
    assert entry["details"] == {"respect_dnt": {"from": True, "to": False},
                                "blocked_user_agents": {"from": [], "to": ["synthetic-monitor"]}}
    before = await count(client, site)
    again = await client.put("/api/v1/privacy/settings", headers=site["admin"], json={"respect_dnt": False})
    assert again.status_code == 200 and await since(client, site, before) == []


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/admin/projects/{p}/keys", {"name": "x", "scopes": ["everything"]}),
    ("delete", "/api/admin/projects/{p}/keys/00000000-0000-0000-0000-000000000000", None),
    ("post", "/api/admin/projects/{p}/modules/core/disable", None),
    ("put", "/api/admin/projects/{p}/modules", {"modules": [{"name": "goals", "enabled": False},
                                                            {"name": "goals", "access": "sometimes"}]}),
    ("put", "/api/v1/privacy/settings?project_id={p}", {"respect_dnt": "no"}),
    ("post", "/api/admin/projects/{p}/webhooks", {"url": HOOK, "events": ["nope"], "secret": SECRET}),
    ("put", "/api/admin/projects/{p}/webhooks/wh-00000000-0000-0000-0000-000000000000", {"events": ["zero_traffic"]}),
    ("post", "/api/v1/identity/scim/groups?project_id={p}", {"display_name": "G", "members": ["nobody"]}),
])
async def test_a_failed_change_writes_no_entry(client, site, method, path, body):
    before = await count(client, site)
    kwargs = {"json": body} if body is not None else {}
    response = await client.request(method.upper(), path.format(p=site["id"]), headers=ADMIN, **kwargs)
    assert response.status_code in (400, 404), response.text
    assert await count(client, site) == before


async def test_an_entry_commits_and_rolls_back_with_its_change(app, site):
    """Written in the change's own transaction: a rolled-back key leaves no entry, a committed one has one."""
    runtime = app.state.runtime
    caller = Caller(project=await _project(app, site["id"]))

    async def entries() -> int:
        async with runtime.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM audit_logs WHERE project_id = :p"),
                                       {"p": site["id"]})).scalar_one()

    before = await entries()
    async with runtime.session() as session:
        await admin_service.create_key(session=session, project_id=caller.project_id, name="Gone",
                                       scopes=["query"], caller=caller)
        await session.rollback()
    assert await entries() == before
    async with runtime.session() as session:
        await admin_service.create_key(session=session, project_id=caller.project_id, name="Kept",
                                       scopes=["query"], caller=caller)
        await session.commit()
    assert await entries() == before + 1


async def _project(app, project_id: str):
    return (await app.state.runtime.access.load_projects([UUID(project_id)]))[0]


async def test_record_is_the_entry_point_for_other_changes(app, client, site):
    """What DSAR export and delete call: `record(session, caller, action, object_type, object_id, details)`."""
    caller = Caller(project=await _project(app, site["id"]))
    before = await count(client, site)
    async with app.state.runtime.session() as session:
        await audit.record(session, caller, "dsar.delete", "visitor", "v-123", {"deleted": {"pageviews": 2}})
        await session.commit()
    [entry] = await since(client, site, before)
    assert brief(entry) == ("dsar.delete", "admin_token", None, "visitor", "v-123")
    assert entry["details"] == {"deleted": {"pageviews": 2}}


# -- saved definitions: audited by pulse.definitions, with no code of their own ----------------

async def webhook_calls(client, site, headers) -> tuple[str, list[dict]]:
    base = f"/api/admin/projects/{site['id']}/webhooks"
    before = await count(client, site)
    created = await client.post(base, headers=headers,
                                json={"url": HOOK, "events": ["traffic_spike"], "secret": SECRET})
    assert created.status_code == 201, created.text
    hook = created.json()["id"]
    updated = await client.put(f"{base}/{hook}", headers=headers,
                               json={"events": ["zero_traffic"], "secret": SECRET * 2})
    assert updated.status_code == 200
    assert (await client.put(f"{base}/{hook}", headers=headers, json={})).status_code == 200  # nothing given
    assert (await client.delete(f"{base}/{hook}", headers=headers)).status_code == 204
    return hook, await since(client, site, before)


async def test_webhooks_are_audited_by_the_definitions_helper(client, site):
    hook, entries = await webhook_calls(client, site, site["admin"])
    assert [(e["action"], e["object_type"], e["object_id"], e["details"]) for e in entries] == [
        ("webhook.create", "webhook", hook, None),
        ("webhook.update", "webhook", hook, {"fields": ["events", "secret"]}),
        ("webhook.delete", "webhook", hook, None)]
    assert SECRET not in str(entries)


async def test_webhook_entries_name_the_caller(client, site):
    _, by_key = await webhook_calls(client, site, site["admin"])
    _, by_token = await webhook_calls(client, site, ADMIN)
    assert {(e["actor_type"], e["actor_id"]) for e in by_key} == {("api_key", site["admin_id"])}
    assert {(e["actor_type"], e["actor_id"]) for e in by_token} == {("admin_token", None)}
    before = await count(client, site)
    created = await gql(client, """mutation($p: ID!, $url: String!, $secret: String!) {
        createWebhook(projectId: $p, input: {url: $url, events: ["daily_summary"], secret: $secret}) { id } }""",
                        {"p": site["id"], "url": HOOK, "secret": SECRET}, site["admin"])
    [entry] = await since(client, site, before)
    assert brief(entry) == ("webhook.create", "api_key", site["admin_id"], "webhook",
                            created["data"]["createWebhook"]["id"])


async def scim_calls(client, site, headers) -> tuple[str, str, list[dict]]:
    users, groups = "/api/v1/identity/scim/users", "/api/v1/identity/scim/groups"
    before = await count(client, site)
    user = await client.post(users, headers=headers, json={"user_name": "ada@example.com", "active": True})
    assert user.status_code == 201, user.text
    uid = user.json()["id"]
    assert (await client.put(f"{users}/{uid}", headers=headers, json={"display_name": "Ada"})).status_code == 200
    group = await client.post(groups, headers=headers, json={"display_name": "Eng", "members": [uid]})
    assert group.status_code == 201, group.text
    gid = group.json()["id"]
    assert (await client.put(f"{groups}/{gid}", headers=headers, json={"display_name": "R&D"})).status_code == 200
    assert (await client.delete(f"{groups}/{gid}", headers=headers)).status_code == 204
    assert (await client.delete(f"{users}/{uid}", headers=headers)).status_code == 204
    return uid, gid, await since(client, site, before)


async def test_scim_users_and_groups_are_audited_by_the_definitions_helper(client, site):
    uid, gid, entries = await scim_calls(client, site, site["admin"])
    assert [(e["action"], e["object_type"], e["object_id"]) for e in entries] == [
        ("scim_user.create", "scim_user", uid), ("scim_user.update", "scim_user", uid),
        ("scim_group.create", "scim_group", gid), ("scim_group.update", "scim_group", gid),
        ("scim_group.delete", "scim_group", gid), ("scim_user.delete", "scim_user", uid)]


async def test_scim_entries_name_the_caller(client, site):
    *_, entries = await scim_calls(client, site, site["admin"])
    assert {(e["actor_type"], e["actor_id"]) for e in entries} == {("api_key", site["admin_id"])}


# -- reading the trail --------------------------------------------------------------------------

async def test_the_trail_is_newest_first_and_paged_with_its_total(client, site):
    for name in ("k1", "k2", "k3"):
        await create_key(client, site["id"], "query", name=name)
    whole = await trail(client, site["admin"])
    assert whole["total"] == 6 and len(whole["data"]) == 6  # the fixture's three keys, then these three
    assert [e["details"]["name"] for e in whole["data"]] == ["k3", "k2", "k1", "ingest", "query", "Admin"]
    stamps = [e["created_at"] for e in whole["data"]]
    assert stamps == sorted(stamps, reverse=True)
    page = await trail(client, site["admin"], limit=2, offset=1)
    assert page == {"data": whole["data"][1:3], "total": 6}
    assert await trail(client, site["admin"], offset=6) == {"data": [], "total": 6}
    as_token = await trail(client, ADMIN, project_id=site["id"], limit=2)
    assert as_token == {"data": whole["data"][:2], "total": 6}


async def test_query_and_ingest_keys_are_refused(client, site):
    for headers in (site["query"], site["ingest"]):
        refused = await client.get(TRAIL, headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {"error": "API key does not have the required 'admin' scope for this endpoint."}
    assert (await client.get(TRAIL)).status_code == 401
    assert (await client.get(TRAIL, headers=ADMIN)).status_code == 400  # the admin token must name the project


async def test_tenant_isolation(client, site):
    other = await create_project(client, "Other", "other.test")
    other_admin = key_header((await create_key(client, other["id"], "admin"))["key"])
    await create_key(client, other["id"], "query", name="B's")
    mine = await trail(client, other_admin)
    assert [e["details"]["name"] for e in mine["data"]] == ["B's", "admin"] and mine["total"] == 2
    assert (await client.get(TRAIL, headers=other_admin, params={"project_id": site["id"]})).status_code == 404
    named_b = await trail(client, ADMIN, project_id=other["id"])
    assert named_b == mine
    a_ids = {e["id"] for e in (await trail(client, site["admin"]))["data"]}
    assert not a_ids & {e["id"] for e in named_b["data"]}


# -- GraphQL ------------------------------------------------------------------------------------

AUDIT_LOGS = """query($id: ID, $first: Int!, $after: String) { project(id: $id) {
  auditLogs(first: $first, after: $after) { total pageInfo { endCursor hasNextPage }
    data { id action actorType actorId objectType objectId details createdAt } } } }"""


def as_rest(node: dict) -> dict:
    return {"id": node["id"], "action": node["action"], "actor_type": node["actorType"], "actor_id": node["actorId"],
            "object_type": node["objectType"], "object_id": node["objectId"], "details": node["details"],
            "created_at": node["createdAt"][:19] + "Z"}


async def test_graphql_agrees_with_rest(client, site):
    await client.post(f"/api/admin/projects/{site['id']}/modules/goals/disable", headers=site["admin"])
    rest = await trail(client, site["admin"])
    first = await gql(client, AUDIT_LOGS, {"first": 2}, site["admin"])
    logs = first["data"]["project"]["auditLogs"]
    assert logs["total"] == rest["total"] and logs["pageInfo"]["hasNextPage"]
    assert [as_rest(n) for n in logs["data"]] == rest["data"][:2]
    rest_of = await gql(client, AUDIT_LOGS, {"first": 100, "after": logs["pageInfo"]["endCursor"]}, site["admin"])
    assert [as_rest(n) for n in rest_of["data"]["project"]["auditLogs"]["data"]] == rest["data"][2:]
    by_token = await gql(client, AUDIT_LOGS, {"id": site["id"], "first": 100}, ADMIN)
    assert [as_rest(n) for n in by_token["data"]["project"]["auditLogs"]["data"]] == rest["data"]


async def test_graphql_refuses_query_keys_and_other_projects(client, site):
    refused = await gql(client, AUDIT_LOGS, {"first": 10}, site["query"])
    assert gql_error(refused) == ("API key does not have the required 'admin' scope for this endpoint.", "FORBIDDEN")
    other = await create_project(client, "Elsewhere", "elsewhere.test")
    other_admin = key_header((await create_key(client, other["id"], "admin"))["key"])
    foreign = await gql(client, AUDIT_LOGS, {"id": site["id"], "first": 10}, other_admin)
    assert gql_error(foreign)[1] == "NOT_FOUND"


async def test_graphql_mutations_are_audited_with_their_caller(client, site):
    before = await count(client, site)
    created = await gql(client, """mutation($p: ID!) { createApiKey(projectId: $p, name: "GQL", scopes: ["query"]) {
        apiKey { id } } }""", {"p": site["id"]}, site["admin"])
    kid = created["data"]["createApiKey"]["apiKey"]["id"]
    changed = await gql(client, """mutation($p: ID) {
        updatePrivacySettings(projectId: $p, input: {consentRequired: true}) { consentRequired } }""",
                        {"p": site["id"]}, ADMIN)
    assert changed["data"]["updatePrivacySettings"]["consentRequired"] is True
    entries = await since(client, site, before)
    assert [brief(e) for e in entries] == [
        ("key.create", "api_key", site["admin_id"], "api_key", kid),
        ("privacy_settings.update", "admin_token", None, "privacy_settings", site["id"])]


# -- append-only --------------------------------------------------------------------------------

async def test_the_database_refuses_to_change_or_delete_entries(app, site):
    async with app.state.runtime.engine.connect() as conn:
        for statement in ("UPDATE audit_logs SET action = 'nothing' WHERE project_id = :p",
                          "DELETE FROM audit_logs WHERE project_id = :p"):
            with pytest.raises(DBAPIError, match="audit_logs is append-only"):
                await conn.execute(text(statement), {"p": site["id"]})
            await conn.rollback()


async def test_a_deleted_project_takes_its_trail_with_it(app, client, site):
    async with app.state.runtime.engine.begin() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit_logs WHERE project_id = :p"),
                                   {"p": site["id"]})).scalar_one() == 3
        await conn.execute(text("DELETE FROM projects WHERE id = :p"), {"p": site["id"]})
        assert (await conn.execute(text("SELECT count(*) FROM audit_logs WHERE project_id = :p"),
                                   {"p": site["id"]})).scalar_one() == 0


async def test_work_without_a_caller_is_the_systems(app, client):
    async with app.state.runtime.session() as session:
        project, _, _ = await admin_service.create_project_with_keys(session=session, name="CLI", domain="cli.test")
        await session.commit()
    entries = (await trail(client, ADMIN, project_id=str(project.id)))["data"]
    assert [(e["action"], e["actor_type"], e["actor_id"]) for e in entries] == [
        ("key.create", "system", None), ("key.create", "system", None)]
