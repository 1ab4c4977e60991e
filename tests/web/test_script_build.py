"""The checked-in script files are what sdk/ builds today, and the core stays within 2 KB gzipped."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from pulse.web.script import FEATURES, STATIC

SDK = Path(__file__).resolve().parents[2] / "sdk"
CORE_BUDGET = 2048  # bytes of script.js, gzipped at level 9


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def test_core_script_within_budget():
    size = gzipped_size(STATIC / "script.js")
    assert size <= CORE_BUDGET, f"script.js is {size} bytes gzipped; the budget is {CORE_BUDGET}"


def test_every_feature_is_a_file_of_its_own():
    built = {p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.js")}
    assert built == {"script.js", *(f"script/{name}.js" for name in FEATURES)}


def test_checked_in_script_files_are_not_stale(tmp_path):
    node = shutil.which("node")
    if node is None or not (SDK / "node_modules" / "esbuild").is_dir():
        pytest.fail("Node and sdk/node_modules are needed to check the built script (run `npm --prefix sdk ci`).")
    subprocess.run([node, str(SDK / "build.mjs"), "--script-only", "--out", str(tmp_path)], check=True, cwd=SDK,
                   timeout=120)
    fresh = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*.js")}
    checked_in = {p.relative_to(STATIC).as_posix(): p.read_bytes() for p in STATIC.rglob("*.js")}
    assert fresh.keys() == checked_in.keys()
    stale = sorted(name for name in fresh if fresh[name] != checked_in[name])
    assert not stale, f"pulse/web/static is stale ({', '.join(stale)}): run `npm --prefix sdk run build`"
