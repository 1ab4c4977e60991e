"""Shared pieces of the fuzz suites: hypothesis profiles, the event loop, projects with keys.

Profiles (PULSE_FUZZ_PROFILE selects one; "ci" by default, which `make test` runs):
  ci    bounded, so both suites together stay well under two minutes on two shared cores (about
        50 s measured, 30 s of it schemathesis); derandomized
        (the same examples on every run, no example database), so CI is reproducible.
  long  many more examples, random, with an example database under bench/results/ (so a
        failure found once is replayed first next time); bench/fuzz.sh runs the suites under it.
PULSE_FUZZ_EXAMPLES overrides max_examples of either profile.

The tests themselves are synchronous (hypothesis and schemathesis drive them) but the app runs
on pytest-asyncio's session loop, where its database and Redis connections live: `run` drives a
coroutine to completion on that loop, which is idle while a synchronous test runs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest_asyncio
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.helpers import ADMIN, create_key, create_project

T = TypeVar("T")

PROFILE = os.environ.get("PULSE_FUZZ_PROFILE", "ci")
_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
               HealthCheck.filter_too_much, HealthCheck.large_base_example]
_EXAMPLES = {"ci": 30, "long": 2000}
_OVERRIDE = int(os.environ["PULSE_FUZZ_EXAMPLES"]) if os.environ.get("PULSE_FUZZ_EXAMPLES") else None
settings.register_profile("ci", max_examples=_OVERRIDE or _EXAMPLES["ci"], derandomize=True, database=None,
                          deadline=None, suppress_health_check=_SUPPRESSED, print_blob=True)
settings.register_profile(
    "long", max_examples=_OVERRIDE or _EXAMPLES["long"], derandomize=False, deadline=None,
    database=DirectoryBasedExampleDatabase(Path(__file__).parents[2] / "bench" / "results" / "hypothesis"),
    suppress_health_check=_SUPPRESSED, print_blob=True)
settings.load_profile(PROFILE)

#: A desktop browser: what the bot filter lets through, so accepted payloads are stored.
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")


@pytest_asyncio.fixture(scope="module")
async def run() -> Callable[[Awaitable[T]], T]:
    """`run(coro)`: the coroutine's result, computed on the loop the app lives on."""
    loop = asyncio.get_running_loop()

    def run_(coro: Awaitable[T]) -> T:
        assert not loop.is_running(), "run() is for synchronous tests"
        return loop.run_until_complete(coro)

    return run_


async def enable_all_modules(client, project_id: str) -> list[str]:
    response = await client.get(f"/api/admin/projects/{project_id}/modules", headers=ADMIN)
    assert response.status_code == 200, response.text
    names = [m["name"] for m in response.json()["modules"]]
    response = await client.put(f"/api/admin/projects/{project_id}/modules", headers=ADMIN,
                                json={"modules": [{"name": name, "enabled": True} for name in names]})
    assert response.status_code == 200, response.text
    assert all(m["enabled"] for m in response.json()["modules"]), response.text
    return names


@pytest_asyncio.fixture(scope="module")
async def project(client) -> dict[str, Any]:
    """A project with every module enabled and a key of each scope."""
    created = await create_project(client, "Fuzz", "fuzz.test")
    pid = created["id"]
    modules = await enable_all_modules(client, pid)
    keys = {scope: (await create_key(client, pid, scope))["key"] for scope in ("ingest", "query", "admin")}
    return {"id": pid, "keys": keys, "modules": modules}
