"""Helpers shared by test modules (fixtures live in the conftest files): import them from here,
never from another test module."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pulse(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run the `pulse` command (`python -m pulse.cli`) and capture what it prints."""
    return subprocess.run([sys.executable, "-m", "pulse.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Pulse setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DATABASE_URL", "REDIS_URL"))}
    env.update(extra)
    return env


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    """A tiny HTTP/1.1 server on 127.0.0.1; `answer(path)` gives (status, headers, body)."""

    answer: Callable[[str], tuple[int, dict[str, str], bytes]]
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(method, path, headers, body))
            status, extra, content = self.answer(path)
            out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(content)}", "Connection: close",
                   *(f"{k}: {v}" for k, v in extra.items())]
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + content)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def local_server(answer: Callable[[str], tuple[int, dict[str, str], bytes]] | None = None
                       ) -> AsyncIterator[LocalServer]:
    server = LocalServer(answer or (lambda path: (200, {}, b"ok")))
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        await listener.wait_closed()
