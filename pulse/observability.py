"""Prometheus metrics and the JSON access log, as one pure ASGI middleware (no per-request task)."""

from __future__ import annotations

import logging
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("pulse.access")

REQUESTS = Counter("pulse_http_requests_total", "HTTP requests", ["method", "route", "status"])
INGEST_BACKLOG = Gauge("pulse_ingest_stream_length", "Entries waiting in the ingest stream", ["shard"],
                       multiprocess_mode="livemax")
INGEST_DEAD_LETTERS = Gauge("pulse_ingest_dead_letters", "Entries in the shard's dead-letter stream", ["shard"],
                            multiprocess_mode="livemax")
INGEST_DROPPED = Counter("pulse_ingest_dropped_total",
                         "Collected payloads dropped on purpose (privacy rules, bot filter), by reason "
                         "(pulse.ingest.service.DROP_REASONS)", ["reason"])
INGEST_WRITTEN = Counter("pulse_ingest_records_written_total", "Records committed by the writers", ["type"])
LATENCY = Histogram("pulse_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("request", extra={
                    "method": method, "path": scope["path"], "route": template,
                    "status": status, "ms": round(elapsed * 1000, 2)})


def render_metrics() -> tuple[bytes, str]:
    """All processes' metrics when several serve the API (PROMETHEUS_MULTIPROC_DIR), else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
