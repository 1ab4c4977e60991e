"""Input limits on ingestion (pulse/limits.py): what could wedge the writer is refused or cut at the door."""

from __future__ import annotations

import random

import pytest

from pulse.limits import MAX_HOSTNAME, MAX_ID_BYTES, MAX_INT, MAX_KEY_BYTES, MAX_TRAIT_KEYS, MIN_INT
from tests.helpers import ADMIN, CHROME, create_key, create_project, drain, key_header, make_app, rows, serving


def cjk(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n))


async def stream_lengths(app) -> list[int]:
    from pulse.ingest.buffer import stream_key

    runtime = app.state.runtime
    return [await runtime.stream_redis.xlen(stream_key(s)) for s in range(runtime.settings.ingest_shards)]


async def test_the_poison_pageview_is_refused_and_the_shard_keeps_writing(settings):
    """The issue's reproduction: 1000 random CJK characters as a path, on a shard two projects share."""
    async with serving(make_app(settings, ingest_shards=1)) as client:
        app = client._transport.app
        a, b = await create_project(client, "A", "a.test"), await create_project(client, "B", "b.test")
        key_a = (await create_key(client, a["id"], "ingest"))["key"]
        key_b = (await create_key(client, b["id"], "ingest"))["key"]
        before = await stream_lengths(app)
        poison = {"type": "pageview", "visitor_id": "v9", "path": "/" + cjk(1000)}
        response = await client.post("/api/collect", json=poison, headers={**key_header(key_a), "User-Agent": CHROME})
        assert response.status_code == 400
        assert response.json() == {"error": f"Invalid request body: field 'path' must be at most {MAX_KEY_BYTES} "
                                            "bytes in UTF-8."}
        assert await stream_lengths(app) == before  # nothing of a refused request is kept
        # The same path inside a URL: refused too, naming the URL.
        in_url = {"type": "pageview", "url": "https://a.test" + poison["path"]}
        response = await client.post("/api/collect", json=in_url, headers={**key_header(key_a), "User-Agent": CHROME})
        assert response.status_code == 400 and "'url' has a path longer than 1024 bytes" in response.json()["error"]
        for key, path in ((key_b, "/after"), (key_a, "/fine")):
            response = await client.post("/api/collect", json={"type": "pageview", "visitor_id": "v1", "path": path},
                                         headers={**key_header(key), "User-Agent": CHROME})
            assert response.status_code == 200
        await drain(app)
        got = await rows(app, "SELECT project_id::text AS p, path FROM pageviews ORDER BY ts")
        assert got == [{"p": b["id"], "path": "/after"}, {"p": a["id"], "path": "/fine"}]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("visitor_id", cjk(171), f"field 'visitor_id' must be at most {MAX_ID_BYTES} bytes in UTF-8."),
    ("user_id", "\N{GRINNING FACE}" * 129, f"field 'user_id' must be at most {MAX_ID_BYTES} bytes in UTF-8."),
    ("session_id", cjk(171), f"field 'session_id' must be at most {MAX_ID_BYTES} bytes in UTF-8."),
    ("path", "/" + "é" * 600, f"field 'path' must be at most {MAX_KEY_BYTES} bytes in UTF-8."),
])
async def test_indexed_values_are_bounded_in_bytes(client, app, site, field, value, message):
    before = await stream_lengths(app)
    response = await client.post("/api/collect", json={"type": "pageview", "path": "/", field: value},
                                 headers=site["headers"])
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request body: " + message}
    assert await stream_lengths(app) == before


async def test_indexed_values_at_the_limit_are_stored(client, app, site):
    path = "/" + "é" * ((MAX_KEY_BYTES - 1) // 2)  # 1023 bytes
    body = {"type": "event", "name": cjk(200), "visitor_id": cjk(170), "path": path, "utm_source": cjk(500)}
    assert (await client.post("/api/collect", json=body, headers=site["headers"])).status_code == 200
    body = {"type": "pageview", "visitor_id": cjk(170), "path": path, "utm_source": cjk(500)}
    assert (await client.post("/api/collect", json=body, headers=site["headers"])).status_code == 200
    await drain(app)
    stored = await rows(app, "SELECT path FROM pageviews WHERE project_id = :p", p=site["id"])
    assert stored == [{"path": path}]
    rollup = await rows(app, "SELECT value FROM daily_rollups WHERE project_id = :p AND dimension = 'utm_source'",
                        p=site["id"])
    assert rollup == [{"value": cjk(341)}]  # UTM values are cut to 1024 bytes


async def test_derived_values_are_cut_not_refused(client, app, site):
    """A URL's host, a referrer's domain and UTM values read from a URL's query are Pulse's own
    derivations: cut at a character boundary to fit an index, never a reason to refuse."""
    host = "h" * 300 + ".example"
    campaign = cjk(600)
    body = {"type": "pageview", "visitor_id": "v1", "url": f"https://{host}/p?utm_source=news&utm_campaign={campaign}",
            "referrer": "https://" + "r" * 1500 + ".example/page"}
    assert (await client.post("/api/collect", json=body, headers=site["headers"])).status_code == 200
    await drain(app)
    row = (await rows(app, "SELECT hostname, utm_campaign, source FROM pageviews WHERE project_id = :p",
                      p=site["id"]))[0]
    assert row["hostname"] == host[:MAX_HOSTNAME]
    assert len(row["utm_campaign"].encode()) <= MAX_KEY_BYTES and campaign.startswith(row["utm_campaign"])
    assert len(row["source"].encode()) <= MAX_KEY_BYTES
    assert await rows(app, "SELECT 1 FROM daily_rollups WHERE project_id = :p AND dimension = 'utm_campaign'",
                      p=site["id"])


@pytest.mark.parametrize("number", [2**64 + 1, 2**63, MIN_INT - 1, -(2**70), 10**400])
async def test_integers_beyond_64_bits_are_refused(client, app, site, number):
    before = await stream_lengths(app)
    body = b'{"type": "event", "name": "n", "data": {"a": [1, {"b": %d}]}}' % number
    response = await client.post("/api/collect", content=body, headers={**site["headers"],
                                                                          "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "Invalid request body: field 'data' must be holding integers between "
                                        f"{MIN_INT} and {MAX_INT}."}
    assert await stream_lengths(app) == before


@pytest.mark.parametrize(("kind", "field", "payload"), [
    ("identify", "traits", {"traits": {"x": 2**64}}),
    ("log", "body", {"message": "m", "body": {"x": -(2**64)}}),
    ("replay", "events", {"recording_id": "r", "events": [{"type": 2, "timestamp": 1, "data": {"n": 2**64}}]}),
])
async def test_every_free_form_object_bounds_integers(client, site, kind, field, payload):
    for module in ("identity", "logs", "session_replay"):
        await client.post(f"/api/admin/projects/{site['id']}/modules/{module}/enable", headers=ADMIN)
    response = await client.post("/api/collect", json={"type": kind, **payload}, headers=site["headers"])
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"Invalid request body: field '{field}' must be holding integers")


async def test_a_batch_with_a_big_integer_keeps_its_other_items(client, app, site):
    batch = [{"type": "pageview", "path": "/ok"}, {"type": "event", "name": "e", "data": {"n": 2**65}}]
    response = await client.post("/api/collect", json=batch, headers=site["headers"])
    assert response.status_code == 200
    assert response.json()["accepted"] == 1 and response.json()["errors"][0]["index"] == 1
    await drain(app)
    assert len(await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"])) == 1


async def test_free_form_key_count_is_bounded(client, site):
    data = {f"k{i}": {"a": 1} for i in range(600)}  # 1200 keys in all
    response = await client.post("/api/collect", json={"type": "event", "name": "n", "data": data},
                                 headers=site["headers"])
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request body: field 'data' must be an object of at most 1000 "
                                        "keys in all."}


async def test_merged_traits_are_capped(client, app, site):
    await client.post(f"/api/admin/projects/{site['id']}/modules/identity/enable", headers=ADMIN)
    for batch in range(3):  # three identifies of 400 new keys each: 1200 keys if merged blindly
        traits = {f"t{batch}_{i}": i for i in range(400)}
        traits["plan"] = f"plan-{batch}"
        body = {"type": "identify", "visitor_id": "v1", "traits": traits}
        assert (await client.post("/api/collect", json=body, headers=site["headers"])).status_code == 200
        await drain(app)
    profile = (await rows(app, "SELECT traits FROM identity_profiles WHERE project_id = :p", p=site["id"]))[0]
    traits = profile["traits"]
    assert len(traits) == 801  # the third call's new keys would pass the cap: dropped ...
    assert len(traits) <= MAX_TRAIT_KEYS
    assert traits["plan"] == "plan-2"  # ... while the keys the profile has still update
    assert "t2_0" not in traits and traits["t1_399"] == 399


async def test_replay_without_recording_attaches_to_the_current_session(client, app, site):
    await client.post(f"/api/admin/projects/{site['id']}/modules/session_replay/enable", headers=ADMIN)
    send = [{"type": "pageview", "visitor_id": "v1", "path": "/a"},
            {"type": "replay", "visitor_id": "v1", "events": [{"type": 2, "timestamp": 1700000000000}]},
            {"type": "replay", "visitor_id": "v1", "seq": 1, "events": [{"type": 3, "timestamp": 1700000000500}]}]
    for body in send:
        assert (await client.post("/api/collect", json=body, headers=site["headers"])).status_code == 200
    await drain(app)
    sessions = await rows(app, "SELECT id::text AS id FROM sessions WHERE project_id = :p", p=site["id"])
    assert len(sessions) == 1
    chunks = await rows(app, "SELECT recording_id, seq, session_id::text AS session_id FROM replay_events "
                             "WHERE project_id = :p ORDER BY seq", p=site["id"])
    assert chunks == [{"recording_id": sessions[0]["id"], "seq": 0, "session_id": sessions[0]["id"]},
                      {"recording_id": sessions[0]["id"], "seq": 1, "session_id": sessions[0]["id"]}]
