"""DSAR export and delete: every table of the registry, reports corrected exactly, in stream order.

The writers here live as long as the module (their caches of visitor numbers, sessions and rollup
bitmaps stay warm, as in production), so these tests step them instead of `drain`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pulse.ingest.writer import ShardWriter
from pulse.privacy.registry import visitor_tables
from tests.helpers import (
    ADMIN,
    CHROME,
    IPHONE,
    OPTIONAL_MODULES,
    PAYLOADS,
    create_key,
    create_project,
    gql,
    key_header,
    make_app,
    rows,
    serving,
)

D1 = (datetime.now(UTC) - timedelta(days=4)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
RANGE = f"start_at={D1.date().isoformat()}&end_at={(D2 + timedelta(days=2)).date().isoformat()}"
REPORTS = ["stats", "stats/timeseries", "pages", "pages/entry", "pages/exit", "referrers", "events", "devices",
           "geo", "channels", "campaigns"]
# Each report unfiltered and filtered (the session rollups, pulse.query.sessionsets, must forget her too).
FILTERS = ["", "&filter=path:is:/pricing", "&filter=device:is:Desktop&filter=event:is:signup",
           "&filter=source:is_not:(direct)"]


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def visit(visitor: str, day: datetime, hour: int, paths: list[str], *, event: str | None = None,
          referrer: str | None = None, agent: str = CHROME) -> list[tuple[dict, str]]:
    """A session: pageviews a minute apart (the first with its referrer), then an event."""
    sends = []
    for n, path in enumerate(paths):
        body = {"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": at(day, hour, n)}
        if n == 0 and referrer:
            body["referrer"] = referrer
        sends.append((body, agent))
    if event:
        sends.append(({"type": "event", "visitor_id": visitor, "name": event, "timestamp": at(day, hour, len(paths))},
                      agent))
    return sends


# Alice shares days, pages, sources and events with Bob, so every rollup row she touches keeps Bob's
# part, and has some of her own (the /alice page, the iPhone, the `refund` event) that must vanish.
ALICE = [*visit("alice", D1, 10, ["/", "/pricing"], event="signup", referrer="https://www.google.com/"),
         *visit("alice", D2, 9, ["/alice"], event="refund", agent=IPHONE),
         *visit("alice", D2, 15, ["/", "/docs", "/pricing"], referrer="https://news.ycombinator.com/")]
BOB = [*visit("bob", D1, 11, ["/", "/docs"], event="signup", referrer="https://www.google.com/"),
       *visit("bob", D2, 9, ["/pricing"], referrer="https://news.ycombinator.com/?utm_source=hn")]
LATER = [*visit("alice", D2, 20, ["/", "/pricing"], event="signup"),  # Alice again, after the delete
         *visit("bob", D2, 21, ["/docs"], event="refund")]


@pytest.fixture(scope="module")
async def writers(app):
    runtime = app.state.runtime
    held = [ShardWriter(runtime, shard, "dsar-test-writer") for shard in range(runtime.settings.ingest_shards)]
    for writer in held:
        assert await writer.hold_lease()
    yield held
    for writer in held:
        await writer.release()


async def write(writers) -> None:
    for writer in writers:
        await writer.hold_lease()
        while await writer.step(block_ms=None):
            pass


async def pumped(writers, request):
    """Await `request` while the writers run, as the worker would beside the API."""
    task = asyncio.ensure_future(request)
    while not task.done():
        for writer in writers:
            await writer.hold_lease()
            await writer.step(block_ms=5)
    return task.result()


async def project(client, name: str) -> dict:
    p = await create_project(client, name, f"{name.lower()}.test")
    for module in OPTIONAL_MODULES:
        assert (await client.post(f"/api/admin/projects/{p['id']}/modules/{module}/enable", headers=ADMIN)).is_success
    keys = {scope: key_header((await create_key(client, p["id"], scope))["key"])
            for scope in ("ingest", "query", "admin")}
    return {"id": p["id"], **keys}


async def send(client, site, sends: list[tuple[dict, str]]) -> None:
    for body, agent in sends:
        response = await client.post("/api/collect", json=body, headers={**site["ingest"], "User-Agent": agent})
        assert response.status_code == 200 and "dropped" not in response.json(), response.text


async def delete(client, writers, site, visitor_id: str, headers=None):
    return await pumped(writers, client.delete(f"/api/v1/privacy/visitors/{visitor_id}",
                                               headers=headers or site["admin"]))


async def reports(client, site) -> dict:
    got = {}
    for name in REPORTS:
        for filters in FILTERS:
            response = await client.get(f"/api/v1/{name}?{RANGE}{filters}", headers=site["query"])
            assert response.status_code == 200, response.text
            got[name + filters] = response.json()
    return got


async def rollups(app, site) -> list[tuple]:
    """The project's rollup rows, counters and distinct visitors (numbers differ between projects)."""
    from pyroaring import BitMap

    found = await rows(app, "SELECT * FROM daily_rollups WHERE project_id = :p ORDER BY day, dimension, value",
                       p=site["id"])
    return [(r["day"], r["dimension"], r["value"], r["pageviews"], r["sessions"], r["bounces"], r["duration"],
             r["events"], r["time_on_page"], r["time_on_page_views"], len(BitMap.deserialize(r["visitors"])))
            for r in found]


async def test_delete_takes_the_visitor_out_of_every_report_exactly(app, client, writers):
    """A project that had Alice, after her delete, answers every report as one that never had her; and
    keeps doing so as both go on (the writer's caches forgot her)."""
    had, never = await project(client, "Had"), await project(client, "Never")
    await send(client, had, ALICE + BOB)
    await send(client, never, BOB)
    await write(writers)
    before = await reports(client, had)
    assert before["stats"] != (await reports(client, never))["stats"]  # she counts, to begin with

    numbers = await rows(app, "SELECT s.session_no FROM sessions s JOIN visitors v ON v.project_id = s.project_id "
                              "AND v.visitor_no = s.visitor_no WHERE s.project_id = :p AND v.visitor_id = 'alice'",
                         p=had["id"])
    response = await delete(client, writers, had, "alice")
    assert response.status_code == 200, response.text
    body = response.json()
    # Her sessions no longer map to a visitor number (pulse.ingest.sessionsets' visitor map).
    for n in numbers:
        entry = await rows(app, "SELECT substring(visitors FROM :at FOR 4) AS entry FROM session_visitors "
                                "WHERE project_id = :p AND chunk = :chunk", p=had["id"],
                           at=n["session_no"] % 4096 * 4 + 1, chunk=n["session_no"] // 4096)
        assert entry == [{"entry": bytes(4)}]
    assert len(numbers) == 3
    assert body["visitor_id"] == "alice" and body["status"] == "deleted" and body["request_id"].startswith("dsar-")
    assert body["deleted"]["pageviews"] == 6 and body["deleted"]["events"] == 2 and body["deleted"]["sessions"] == 3
    assert body["deleted"]["visitors"] == 1 and body["deleted"]["daily_rollups"] > 0
    assert body["deleted"]["session_rollups"] > 0
    assert set(body["deleted"]) == {vt.name for vt in visitor_tables()} | {"daily_rollups", "session_rollups"}

    assert await reports(client, had) == await reports(client, never)
    assert await rollups(app, had) == await rollups(app, never)
    pages = {p["path"] for p in (await reports(client, had))["pages"]["data"]}
    assert "/alice" not in pages

    # Afterwards: Alice comes back (a new visitor to Pulse), Bob goes on; both projects see the same.
    await send(client, had, LATER)
    await send(client, never, LATER)
    await write(writers)
    assert await reports(client, had) == await reports(client, never)
    assert await rollups(app, had) == await rollups(app, never)


async def test_data_still_in_the_stream_is_deleted_too(app, client, writers):
    site = await project(client, "Buffered")
    await send(client, site, BOB)
    await write(writers)
    await send(client, site, ALICE)  # accepted, not yet written when the delete arrives
    response = await delete(client, writers, site, "alice")
    assert response.status_code == 200 and response.json()["deleted"]["pageviews"] == 6
    await write(writers)
    assert await rows(app, "SELECT 1 FROM visitors WHERE project_id = :p AND visitor_id = 'alice'", p=site["id"]) == []
    stats = (await client.get(f"/api/v1/stats?{RANGE}", headers=site["query"])).json()
    assert (stats["current"]["pageviews"], stats["current"]["visitors"]) == (3, 1)


async def every_type(visitor: str, day: datetime) -> list[tuple[dict, str]]:
    sends = [({"type": "identify", "visitor_id": visitor, "timestamp": at(day, 8),
               "payload": {"user_id": f"user-{visitor}", "traits": {"email": f"{visitor}@example.test"},
                           "account": {"id": "acme", "traits": {"tier": "gold"}, "role": "admin"}}}, CHROME)]
    for n, (typ, (fields, _, _)) in enumerate(PAYLOADS.items()):
        sends.append(({"type": typ, "visitor_id": visitor, "timestamp": at(day, 9, n), **fields}, CHROME))
    return sends


async def test_export_holds_every_table_of_the_visitor_and_nothing_else(app, client, writers):
    site, other = await project(client, "Exported"), await project(client, "Elsewhere")
    await send(client, site, await every_type("alice", D1) + await every_type("bob", D1))
    await send(client, other, await every_type("alice", D2))
    await write(writers)

    response = await client.get("/api/v1/privacy/visitors/alice/export", headers=site["admin"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["visitor_id"] == "alice" and document["project_id"] == site["id"]
    names = [vt.name for vt in visitor_tables()]
    assert list(document["tables"]) == names and list(document["counts"]) == names
    alice_no = (await rows(app, "SELECT visitor_no FROM visitors WHERE project_id = :p AND visitor_id = 'alice'",
                           p=site["id"]))[0]["visitor_no"]
    for vt in visitor_tables():
        exported = document["tables"][vt.name]
        assert exported, f"{vt.name}: nothing exported"  # the dataset puts Alice in every table
        assert document["counts"][vt.name] == len(exported)
        column = "visitor_id" if vt.key == "visitor_id" else "visitor_no"
        stored = await rows(app, f"SELECT count(*) AS n FROM {vt.name} WHERE project_id = :p AND {column} = :v",
                            p=site["id"], v="alice" if column == "visitor_id" else alice_no)
        assert len(exported) == stored[0]["n"], vt.name
        assert {r[column] for r in exported} == {"alice" if column == "visitor_id" else alice_no}, vt.name
        assert all("project_id" not in r for r in exported)
    assert document["tables"]["identity_profiles"][0]["traits"]["email"] == "alice@example.test"

    # Every row of every table goes with the delete; Bob's and the other project's stay.
    deleted = (await delete(client, writers, site, "alice")).json()["deleted"]
    assert all(deleted[name] == document["counts"][name] for name in names)
    assert (await client.get("/api/v1/privacy/visitors/alice/export", headers=site["admin"])).status_code == 404
    bob = (await client.get("/api/v1/privacy/visitors/bob/export", headers=site["admin"])).json()
    assert all(bob["counts"][name] for name in names)
    elsewhere = (await client.get("/api/v1/privacy/visitors/alice/export", headers=other["admin"])).json()
    assert all(elsewhere["counts"][name] for name in names)


async def test_delete_is_idempotent_and_audited(app, client, writers):
    site = await project(client, "Audited")
    await send(client, site, BOB)
    await write(writers)
    first = (await delete(client, writers, site, "bob")).json()
    again = await delete(client, writers, site, "bob")
    assert again.status_code == 200 and set(again.json()["deleted"].values()) == {0}
    never_seen = await delete(client, writers, site, "nobody")
    assert never_seen.status_code == 200 and set(never_seen.json()["deleted"].values()) == {0}
    await client.get("/api/v1/privacy/visitors/nobody/export", headers=site["admin"])  # a 404 is not audited

    log = (await client.get("/api/v1/audit-logs", headers=site["admin"])).json()["data"]
    dsar = [e for e in log if e["action"].startswith("dsar.")]
    assert [(e["action"], e["object_id"]) for e in dsar] == [
        ("dsar.delete", "nobody"), ("dsar.delete", "bob"), ("dsar.delete", "bob")]
    assert dsar[-1]["details"] == {"request_id": first["request_id"], "deleted": first["deleted"]}
    assert dsar[-1]["actor_type"] == "api_key" and dsar[-1]["actor_id"]
    exported = await client.get("/api/v1/privacy/visitors/bob/export", headers=site["admin"])
    assert exported.status_code == 404
    await send(client, site, BOB)
    await write(writers)
    assert (await client.get("/api/v1/privacy/visitors/bob/export", headers=site["admin"])).status_code == 200
    entry = (await client.get("/api/v1/audit-logs?limit=1", headers=site["admin"])).json()["data"][0]
    assert (entry["action"], entry["object_type"], entry["object_id"]) == ("dsar.export", "visitor", "bob")


async def test_only_an_admin_of_the_project_may_ask(app, client, writers):
    site, other = await project(client, "Scoped"), await project(client, "Stranger")
    await send(client, site, BOB)
    await write(writers)
    for headers in (site["query"], site["ingest"]):
        assert (await client.get("/api/v1/privacy/visitors/bob/export", headers=headers)).status_code == 403
        assert (await client.delete("/api/v1/privacy/visitors/bob", headers=headers)).status_code == 403
    assert (await client.delete("/api/v1/privacy/visitors/bob")).status_code == 401
    # Another project's admin key reaches only its own project: Bob is unknown there, and stays here.
    assert (await client.get("/api/v1/privacy/visitors/bob/export", headers=other["admin"])).status_code == 404
    assert (await delete(client, writers, other, "bob")).json()["deleted"]["pageviews"] == 0
    # A key acts on its own project whatever project_id says.
    assert (await client.get(f"/api/v1/privacy/visitors/bob/export?project_id={site['id']}",
                             headers=other["admin"])).status_code == 404
    assert len(await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"])) == 3
    # The admin token names the project.
    token = await client.get(f"/api/v1/privacy/visitors/bob/export?project_id={site['id']}", headers=ADMIN)
    assert token.status_code == 200 and token.json()["counts"]["pageviews"] == 3


async def test_bad_visitor_ids_are_refused(client, writers):
    """Ids are checked as ingestion checks them (at most 200 characters)."""
    site, visitor_id = await project(client, "Bad"), "x" * 201
    for method in ("GET", "DELETE"):
        path = f"/api/v1/privacy/visitors/{visitor_id}" + ("/export" if method == "GET" else "")
        response = await client.request(method, path, headers=site["admin"])
        assert response.status_code == 400 and response.json()["error"].startswith("Invalid visitor id"), response.text


async def test_graphql_export_and_delete(app, client, writers):
    site = await project(client, "Graph")
    await send(client, site, ALICE + BOB)
    await write(writers)
    query = '{ visitorExport(visitorId: "alice") }'
    document = (await gql(client, query, headers=site["admin"]))["data"]["visitorExport"]
    rest = (await client.get("/api/v1/privacy/visitors/alice/export", headers=site["admin"])).json()
    assert document["tables"] == rest["tables"] and document["counts"]["pageviews"] == 6
    refused = await gql(client, query, headers=site["query"])
    assert refused["errors"] and refused["data"] is None
    mutation = 'mutation { deleteVisitorData(visitorId: "alice") { visitorId status requestId deleted } }'
    result = await pumped(writers, gql(client, mutation, headers=site["admin"]))
    deletion = result["data"]["deleteVisitorData"]
    assert deletion["status"] == "deleted" and deletion["deleted"]["pageviews"] == 6
    missing = await gql(client, query, headers=site["admin"])
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_delete_the_writer_has_not_reached_answers_202_and_still_happens(settings, app, client, writers):
    site = await project(client, "Pending")
    await send(client, site, BOB)
    await write(writers)
    async with serving(make_app(settings, dsar_wait_seconds=0.05)) as impatient:
        response = await impatient.delete("/api/v1/privacy/visitors/bob", headers=site["admin"])
    assert response.status_code == 202
    assert response.json() | {"request_id": None} == {"visitor_id": "bob", "status": "pending", "deleted": None,
                                                      "request_id": None}
    await write(writers)
    assert await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"]) == []
    entry = (await client.get("/api/v1/audit-logs?limit=1", headers=site["admin"])).json()["data"][0]
    assert entry["action"] == "dsar.delete" and entry["details"]["request_id"] == response.json()["request_id"]
    assert entry["details"]["deleted"]["pageviews"] == 3
