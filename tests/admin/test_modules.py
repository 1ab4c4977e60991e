"""Module settings per project, through /api/admin and GraphQL."""

from __future__ import annotations

from pulse.modules.registry import MODULES
from tests.helpers import ADMIN, create_project, gql, gql_error


async def modules_of(client, project_id: str) -> dict[str, dict]:
    response = await client.get(f"/api/admin/projects/{project_id}/modules", headers=ADMIN)
    assert response.status_code == 200
    return {m["name"]: m for m in response.json()["modules"]}


async def test_a_new_project_lists_all_33_modules_with_defaults(client):
    project = await create_project(client)
    response = await client.get(f"/api/admin/projects/{project['id']}/modules", headers=ADMIN)
    body = response.json()
    assert list(body) == ["modules"]
    assert [m["name"] for m in body["modules"]] == list(MODULES)
    assert all(set(m) == {"name", "enabled", "access"} for m in body["modules"])
    by_name = {m["name"]: m for m in body["modules"]}
    assert by_name["core"] == {"name": "core", "enabled": True, "access": "all"}
    assert by_name["funnels"]["enabled"] is True
    assert by_name["session_replay"]["enabled"] is False and by_name["heatmaps"]["enabled"] is False
    assert sum(m["enabled"] for m in body["modules"]) == sum(m.default_enabled for m in MODULES.values())


async def test_bulk_update_as_in_the_reference(client):
    project = await create_project(client)
    response = await client.put(f"/api/admin/projects/{project['id']}/modules", headers=ADMIN, json={
        "modules": [{"name": "funnels", "enabled": True, "access": "all"},
                    {"name": "ab_testing", "enabled": True, "access": "all"},
                    {"name": "heatmaps", "enabled": False}]})
    assert response.status_code == 200
    returned = {m["name"]: m for m in response.json()["modules"]}
    assert returned["ab_testing"] == {"name": "ab_testing", "enabled": True, "access": "all"}
    assert returned == await modules_of(client, project["id"])


async def test_bulk_update_is_all_or_nothing(client):
    project = await create_project(client)
    before = await modules_of(client, project["id"])
    for modules, message in [
        ([{"name": "bi", "enabled": True}, {"name": "nope", "enabled": True}], "Unknown module 'nope'."),
        ([{"name": "bi", "enabled": True}, {"name": "core", "enabled": False}],
         "Module 'core' is always enabled and cannot be disabled."),
        ([{"name": "bi", "access": "everything"}],
         "Invalid access level 'everything': expected one of read, write, all."),
    ]:
        response = await client.put(f"/api/admin/projects/{project['id']}/modules", headers=ADMIN,
                                    json={"modules": modules})
        assert response.status_code == 400 and response.json() == {"error": message}
    missing = await client.put(f"/api/admin/projects/{project['id']}/modules", headers=ADMIN, json={})
    assert missing.json() == {"error": "Invalid request body: missing required field 'modules'."}
    assert await modules_of(client, project["id"]) == before


async def test_enable_disable_and_access(client):
    project = await create_project(client)
    base = f"/api/admin/projects/{project['id']}/modules"
    enabled = await client.post(f"{base}/heatmaps/enable", headers=ADMIN)
    assert enabled.status_code == 200 and enabled.json() == {"name": "heatmaps", "enabled": True, "access": "all"}
    disabled = await client.post(f"{base}/funnels/disable", headers=ADMIN)
    assert disabled.json() == {"name": "funnels", "enabled": False, "access": "all"}
    access = await client.put(f"{base}/surveys/access", headers=ADMIN, json={"access": "read"})
    assert access.json() == {"name": "surveys", "enabled": False, "access": "read"}
    now = await modules_of(client, project["id"])
    assert now["heatmaps"]["enabled"] and not now["funnels"]["enabled"] and now["surveys"]["access"] == "read"


async def test_module_errors(client):
    project = await create_project(client)
    base = f"/api/admin/projects/{project['id']}/modules"
    core = await client.post(f"{base}/core/disable", headers=ADMIN)
    assert core.status_code == 400
    assert core.json() == {"error": "Module 'core' is always enabled and cannot be disabled."}
    unknown = await client.post(f"{base}/nope/enable", headers=ADMIN)
    assert unknown.status_code == 404 and unknown.json() == {"error": "Module 'nope' not found."}
    bad = await client.put(f"{base}/surveys/access", headers=ADMIN, json={"access": "admin"})
    assert bad.status_code == 400
    missing = await client.put(f"{base}/surveys/access", headers=ADMIN, json={})
    assert missing.json() == {"error": "Invalid request body: missing required field 'access'."}
    wrong_method = await client.get(f"{base}/surveys/enable", headers=ADMIN)
    assert wrong_method.status_code == 405 and wrong_method.json() == {"error": "Method not allowed."}


async def test_graphql_modules(client):
    project = await create_project(client)
    variables = {"p": project["id"]}
    registry = (await gql(client, "{ modules { name category } }", headers=ADMIN))["data"]["modules"]
    assert len(registry) == 33 and registry[0] == {"name": "core", "category": "core"}
    updated = (await gql(client, """mutation($p: ID!) { updateModules(projectId: $p, modules: [
        {name: "bi", enabled: true, access: READ}, {name: "logs", enabled: false}]) { name enabled access } }""",
                         variables, headers=ADMIN))["data"]["updateModules"]
    assert {"name": "bi", "enabled": True, "access": "READ"} in updated
    assert (await gql(client, 'mutation($p: ID!) { enableModule(projectId: $p, name: "heatmaps") { enabled } }',
                      variables, headers=ADMIN))["data"]["enableModule"] == {"enabled": True}
    assert (await gql(client, 'mutation($p: ID!) { disableModule(projectId: $p, name: "heatmaps") { enabled } }',
                      variables, headers=ADMIN))["data"]["disableModule"] == {"enabled": False}
    access = await gql(client, 'mutation($p: ID!) { setModuleAccess(projectId: $p, name: "goals", access: WRITE) '
                               '{ access } }', variables, headers=ADMIN)
    assert access["data"]["setModuleAccess"] == {"access": "WRITE"}
    rest = await modules_of(client, project["id"])
    assert rest["bi"] == {"name": "bi", "enabled": True, "access": "read"}
    assert rest["logs"]["enabled"] is False and rest["heatmaps"]["enabled"] is False
    assert rest["goals"]["access"] == "write"
    listed = (await gql(client, "query($p: ID) { project(id: $p) { modules { name enabled access } } }",
                        variables, headers=ADMIN))["data"]["project"]["modules"]
    assert {m["name"]: m["enabled"] for m in listed} == {n: m["enabled"] for n, m in rest.items()}
    message, code = gql_error(await gql(
        client, 'mutation($p: ID!) { disableModule(projectId: $p, name: "core") { enabled } }', variables,
        headers=ADMIN))
    assert (message, code) == ("Module 'core' is always enabled and cannot be disabled.", "BAD_REQUEST")
