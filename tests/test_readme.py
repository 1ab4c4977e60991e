"""README.md's "First steps", run as a newcomer would: each shell command of the section, in order,
against a fresh `pulse serve`, until the stats API counts the pageview.

The commands are parsed out of the README's code blocks, so a README change that breaks a step fails
here. A block introduced by "or ..." is an alternative to the block before it; each way through the
section (the CLI's `create-project`, or the admin API) is run on its own. Placeholders (`<project_id>`,
`<ingest_key>`, `<query_key>`) take the values the earlier steps printed.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ADMIN_TOKEN, ROOT, clean_env

README_BASE = "http://127.0.0.1:8000"  # where `make run` serves, as the README says
README_PULSE = ".venv/bin/pulse"
PLACEHOLDER = re.compile(r"<(\w+)>")
DEADLINE = 60  # seconds to wait for the server to be ready, or for the pageview to be counted


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    intro: str  # the paragraph just before the block


def first_steps() -> list[Block]:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## First steps\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, 'README.md has no "## First steps" section'
    blocks, last = [], 0
    section = match.group(1)
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", section, re.M | re.S):
        intro = section[last:m.start()].strip().split("\n\n")[-1]
        blocks.append(Block(m.group(1), m.group(2), intro))
        last = m.end()
    return blocks


def ways_through(blocks: list[Block]) -> list[list[Block]]:
    """Every way through the section: one runnable (shell) block of each group of alternatives."""
    groups: list[list[Block]] = []
    for block in blocks:
        if groups and block.intro.lower().startswith("or "):
            groups[-1].append(block)
        else:
            groups.append([block])
    choices = [[b for b in group if b.lang in ("sh", "bash", "shell")] for group in groups]
    return [list(way) for way in itertools.product(*(c for c in choices if c))]


def commands(block: Block) -> list[str]:
    """The block's commands: one per logical line (backslash continuations joined)."""
    joined = re.sub(r"\\\n\s*", " ", block.code)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


WAYS = ways_through(first_steps())


def way_name(way: list[Block]) -> str:
    return commands(way[0])[0].split("#")[0].strip()[:40]


# --------------------------------------------------------------------------------------------
# The server


@dataclass(frozen=True)
class Server:
    base: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(settings) -> Iterator[Server]:
    """`pulse serve` (with its worker, as `make run` starts it) on the test database, on a free port
    instead of 8000; `make run` itself would install into .venv first, and use the embedded servers."""
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="pulse-readme-")
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url, PULSE_ADMIN_TOKEN=ADMIN_TOKEN,
                    PULSE_COOKIE_SECRET="readme-cookie-secret", PULSE_DATA_DIR=data_dir, PULSE_LOG_LEVEL="warning")
    log = Path(data_dir) / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, cwd=ROOT, stdout=stderr, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, "pulse serve exited:\n" + log.read_text()
                assert time.monotonic() < deadline, "pulse serve not ready in time:\n" + log.read_text()
                time.sleep(0.05)
        yield Server(base, env)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------------------------
# Running the steps


def learn(output: str, values: dict[str, str]) -> None:
    """What a step printed: `name: value` lines (the CLI) or a created project or key (the admin API)."""
    try:
        body = json.loads(output)
    except ValueError:
        for line in output.splitlines():
            name, sep, value = line.partition(": ")
            if sep and re.fullmatch(r"\w+", name):
                values[name] = value.strip()
        return
    if isinstance(body, dict) and "key" in body and body.get("scopes"):
        values[f"{body['scopes'][0]}_key"] = body["key"]
    elif isinstance(body, dict) and "id" in body and "domain" in body:
        values["project_id"] = body["id"]


def shell_command(command: str, server: Server, values: dict[str, str]) -> str:
    # The README's server and `pulse` command, as this test runs them: its own `pulse serve`, and the
    # package under test through the interpreter running the tests (the README's .venv one, normally).
    command = command.replace(README_BASE, server.base)
    command = command.replace(README_PULSE, f"{shlex.quote(sys.executable)} -m pulse.cli")

    def value(m: re.Match) -> str:
        assert m.group(1) in values, f"the README uses <{m.group(1)}> before a step printed it: {command}"
        return values[m.group(1)]

    return PLACEHOLDER.sub(value, command)


def run(command: str, server: Server) -> str:
    result = subprocess.run(["bash", "-c", command], env=server.env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"{command}\nexited {result.returncode}: {result.stderr}"
    output = result.stdout.strip()
    if output.startswith("{"):
        body = json.loads(output)
        assert "error" not in body and "dropped" not in body, f"{command}\nanswered {output}"
    return output


def pageviews(command: str, server: Server, expected: int) -> int:
    """Poll the stats command until it counts `expected` pageviews (the writer stores them shortly
    after the collect answers), or the deadline passes; the last count seen."""
    deadline = time.monotonic() + DEADLINE
    while True:
        seen = json.loads(run(command, server))["current"]["pageviews"]
        if seen >= expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def test_the_section_has_a_way_to_the_numbers():
    assert len(WAYS) >= 1
    for way in WAYS:
        steps = [c for block in way for c in commands(block)]
        assert any("/api/collect" in c for c in steps), "no step sends a pageview"
        assert any("/api/v1/stats" in c for c in steps), "no step reads the numbers back"


@pytest.mark.parametrize("way", WAYS, ids=[way_name(w) for w in WAYS])
def test_first_steps_end_with_the_pageview_counted(server, way):
    values: dict[str, str] = {}
    sent = 0
    for block in way:
        for command in commands(block):
            command = shell_command(command, server, values)
            if "/api/v1/stats" in command:
                assert pageviews(command, server, sent) == sent == 1, command
                continue
            output = run(command, server)
            if "/api/collect" in command:
                assert json.loads(output) == {"ok": True}, f"{command}\nanswered {output}"
                sent += 1
            learn(output, values)
    assert sent == 1 and {"project_id", "ingest_key", "query_key"} <= set(values), values


def test_without_a_browser_agent_the_readme_curl_says_it_was_dropped(server):
    """What the README warns about: the same collect command without `-A` is dropped as a bot, and says so."""
    values: dict[str, str] = {}
    for command in commands(WAYS[0][0]):
        learn(run(shell_command(command, server, values), server), values)
    collect = next(c for way in WAYS for block in way for c in commands(block) if "/api/collect" in c)
    assert ' -A "' in collect
    bare = re.sub(r' -A "[^"]*"', "", shell_command(collect, server, values))
    result = subprocess.run(["bash", "-c", bare], env=server.env, capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout) == {"ok": True, "dropped": "bot"}
