"""A module plugs itself in: a package with one `Module` object, and nothing edited elsewhere.

The probe below is a whole module in one file, put beside the real ones (on
`pulse.modules.__path__`) in a fresh interpreter under a registry name that has no package yet.
Its router, report, query, table and payload type must all show up: in the app's routes, the
GraphQL schema and `Project`, the CSV exports, the tables' metadata, the partitioned tables and
the ingest parser.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pulse.modules.installed import installed
from pulse.modules.registry import MODULES

PROBE = '''
from __future__ import annotations

from dataclasses import dataclass

import msgspec
import strawberry
from fastapi import APIRouter
from sqlalchemy import Column, Text

from pulse.ingest.fields import req_str
from pulse.ingest.sinks import Copy
from pulse.ingest.tables import collected
from pulse.modules.module import Module, Payload
from pulse.query.rollups import total
from pulse.reports import Export, Report, Shape


@dataclass(frozen=True, slots=True)
class ProbeCount:
    visitors: int


async def probe_count(*, read, days) -> ProbeCount:
    return ProbeCount(total(await read("", days)).visitors)


class ProbeData(msgspec.Struct, tag="probe", tag_field="kind"):
    note: str


router = APIRouter()


@router.get("/api/v1/probe/ping")
async def ping() -> dict:
    return {"ok": True}


@strawberry.type
class Query:
    @strawberry.field
    def probe_ping(self) -> str:
        return "pong"


probes = collected("probes", Column("note", Text, nullable=False))

MODULE = Module(
    "{name}", router=router, query=Query, tables=(probes,),
    reports=(Report("probe_count", "/probe/count", probe_count, ProbeCount, Shape.ONE,
                    export=Export(item=ProbeCount)),),
    payloads=(Payload("probe", lambda d: ProbeData(req_str(d, "note", 100)), ProbeData,
                      sink=Copy("probes", ("note",), lambda r, _: (r.data.note,))),),
)
'''

CHECK = '''
import json, sys
from datetime import UTC, datetime

import pulse.modules

pulse.modules.__path__.append(sys.argv[1])

from pulse.app import create_app
from pulse.config import Settings
from pulse.db import Base
from pulse.graphql.schema import build_schema
from pulse.ingest.partitions import collected_tables
from pulse.ingest.payloads import parse_collect, payload_modules
from pulse.modules.exports.service import exports
from pulse.tables import import_all_tables

import_all_tables()
item = parse_collect(b'{"type": "probe", "note": "hello"}', now=datetime.now(UTC)).items[0]
schema = build_schema()
print(json.dumps({
    "paths": sorted(create_app(Settings()).openapi()["paths"]),
    "query": sorted(schema._schema.get_type("Query").fields),
    "project": sorted(schema._schema.get_type("Project").fields),
    "exports": sorted(exports()),
    "tables": sorted(Base.metadata.tables),
    "partitioned": sorted(t.name for t in collected_tables()),
    "module_of_probe": payload_modules().get("probe"),
    "parsed": [type(item.data).__name__, item.data.note],
}))
'''


def test_a_new_module_is_one_package(tmp_path: Path) -> None:
    name = next(n for n in MODULES if n not in {m.name for m in installed()})  # a registry name, no package yet
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text(textwrap.dedent(PROBE).replace("{name}", name))
    done = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert {"/api/v1/probe/ping", "/api/v1/probe/count"} <= set(seen["paths"])
    assert "/api/v1/pages" in seen["paths"]  # the installed modules' routes are still there
    assert "probePing" in seen["query"]
    assert {"probeCount", "pages", "keys"} <= set(seen["project"])
    assert "probe_count" in seen["exports"] and "pages" in seen["exports"]
    assert "probes" in seen["tables"] and "probes" in seen["partitioned"]
    assert seen["module_of_probe"] == name
    assert seen["parsed"] == ["ProbeData", "hello"]
