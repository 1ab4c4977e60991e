"""Logs' payload type: log.

  log              LogData. `level` debug/info/warn/error/fatal ("warning" -> "warn", any
                   case, default "info"); required `message`; `body` object (or `data`);
                   `release`, `environment`.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from pulse.ingest.fields import freeform, must, opt_str, req_str
from pulse.ingest.sinks import Copy, json_text
from pulse.modules.module import Payload


class LogData(msgspec.Struct, tag="log", tag_field="kind"):
    level: str
    message: str
    body: dict[str, Any]
    release: str | None = None
    environment: str | None = None


_LEVELS: Final = {"debug": "debug", "info": "info", "warn": "warn", "warning": "warn", "error": "error",
                  "fatal": "fatal"}


def parse_log(d: dict[str, Any]) -> LogData:
    level = d.get("level")
    if level is None or level == "":
        level = "info"
    elif type(level) is not str or (level := _LEVELS.get(level.lower())) is None:
        raise must("level", "one of debug, info, warn, warning, error, fatal")
    message = req_str(d, "message", 4000, strip=False)
    body = freeform(d["body"], "body") if d.get("body") is not None else freeform(d.get("data"), "data")
    return LogData(level, message, body, opt_str(d, "release", 200), opt_str(d, "environment", 200))


LOGS = Copy("logs", ("level", "message", "body", "release", "environment"),
            lambda r, _: (r.data.level, r.data.message, json_text(r.data.body or None), r.data.release,
                          r.data.environment))

PAYLOADS = (Payload("log", parse_log, LogData, sink=LOGS),)
