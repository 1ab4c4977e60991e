"""Schemathesis over the whole OpenAPI document, against the real app (PostgreSQL and Redis).

The document is the one the app serves at /api/openapi.json. Every operation is called with
the credential it needs, so requests reach the handlers: the platform admin token for
/api/admin/*, the project's admin key for /api/v1/privacy/* (project administration), its
query key for the rest of /api/v1/*; `project_id` is mostly a real project's id (one of its own
for the admin routes, which disable modules and revoke keys), `module` and `type` mostly real
names.

Checks, on every response:
  * not_a_server_error: no 5xx;
  * every 4xx and 5xx is JSON `{"error": "<string>"}` (error_envelope, below);
  * response_schema_conformance: a body answered with a documented status matches its schema.
Status-code conformance is left out on purpose: the document lists FastAPI's 422 for every
operation with parameters while Pulse answers bad input with 400 (and 401/403/404/413/429),
as the API reference says, so it would fail on every invalid case without finding anything.

The app's document leaves the `project_id` path parameter undeclared (a router-level path
parameter); the fixture declares it, as a string, before loading the schema (see
/tmp/fuzz-findings.md).
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import ADMIN, create_project, error_envelope

BASE_URL = "http://pulse.test"
_REQUEST_FIELDS = {"method", "url", "headers", "files", "data", "params", "auth", "cookies", "json"}


@pytest.fixture(scope="module")
def settings(settings):
    """No writer runs here: a DSAR delete answers 202 at once instead of waiting for one."""
    return settings.model_copy(update={"dsar_wait_seconds": 0})


@pytest.fixture(scope="module")
def openapi_document(run, client) -> dict[str, Any]:
    response = run(client.get("/api/openapi.json"))
    assert response.status_code == 200, response.text
    return response.json()


def declare_path_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every `{name}` of a path declared as a path parameter (a string)."""
    document = copy.deepcopy(document)
    for path, operations in document["paths"].items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            params = operation.setdefault("parameters", [])
            declared = {p.get("name") for p in params if p.get("in") == "path"}
            for name in names:
                if name in declared:
                    continue
                params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    return document


@pytest.fixture(scope="module")
def target(run, client) -> str:
    """The project /api/admin/* cases act on: their own, so a module they disable or a key they
    revoke does not take the /api/v1/* cases' project away."""
    return run(create_project(client, "Admin target", "target.test"))["id"]


@pytest.fixture(scope="module")
def api_schema(openapi_document, project):
    loaded = schemathesis.openapi.from_dict(declare_path_parameters(openapi_document))
    loaded.config.base_url = BASE_URL
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schemathesis.check
def error_body_is_envelope(ctx, response, case) -> bool | None:
    """Every 4xx/5xx body is JSON `{"error": "<string>"}`."""
    problem = error_envelope(response.status_code, response.content,
                             (response.headers.get("content-type") or [""])[0])
    if problem:
        raise AssertionError(problem)
    return None


CHECKS = [not_a_server_error, error_body_is_envelope, response_schema_conformance]


def _real_values() -> dict[str, list[str]]:
    from pulse.modules.exports.service import exports
    from pulse.modules.registry import MODULES

    return {"module": sorted(MODULES), "type": sorted(exports())}


def aim(case, project_id: str) -> None:
    """Point most cases at real things, so they get past the lookup: `project_id` the project's
    id, `module` a module's name, `type` an export's. One generated value in five is kept as it is
    (deterministically, from the value itself), so unknown ids and names are fuzzed too."""
    real = {"project_id": [project_id], **_real_values()}
    params = case.path_parameters or {}
    for name, value in list(params.items()):
        if name not in real:
            continue
        digest = zlib.crc32(repr(value).encode())
        if digest % 5:
            params[name] = real[name][digest // 5 % len(real[name])]


def credential(path: str, keys: dict[str, str]) -> dict[str, str]:
    if path.startswith("/api/admin/"):
        return dict(ADMIN)
    if path.startswith("/api/v1/privacy/"):
        return {"X-Pulse-Key": keys["admin"]}
    if path.startswith("/api/v1/"):
        return {"X-Pulse-Key": keys["query"]}
    return {}


def send(run, client, case, keys: dict[str, str]) -> schemathesis.Response:
    """The case sent to the app on its own loop; the answer as schemathesis reads it."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    # Our credential wins over any generated header of the same name, so requests reach handlers.
    kwargs["headers"] = {**(kwargs.get("headers") or {}), **credential(case.path, keys)}
    prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in _REQUEST_FIELDS}).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    response = run(client.request(prepared.method, prepared.url, headers=dict(prepared.headers),
                                  content=body or b""))
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    return schemathesis.Response(status_code=response.status_code, headers=headers,
                                 content=response.content, request=prepared,
                                 elapsed=response.elapsed.total_seconds() if response.is_closed else 0.0,
                                 verify=True, message=response.reason_phrase)


@schema.parametrize()
def test_every_operation(case, run, client, project, target) -> None:
    aim(case, target)
    response = send(run, client, case, project["keys"])
    case.validate_response(response, checks=CHECKS)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request) -> None:
    """schemathesis 4.32's lazy loader reads and rewrites `node._nodeid`, which pytest 9 no
    longer has (its `nodeid` is a property over `_id`); give it one to read."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
