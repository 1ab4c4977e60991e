"""Structured JSON logs on stdout, one object per line, with key values redacted.

`?key=` stays a way to send a key (the API reference documents it), so a URL may carry one; no
log line ever shows it: every formatted line has its `key=` query values and anything shaped like
a key (`pa_live_...`) replaced, tracebacks and third-party loggers included.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from pulse.auth import KEY_PREFIX

REDACTED = "REDACTED"
_KEY_PARAM = re.compile(r"(?<![\w-])(key=)[^&\s\"'\\]+", re.IGNORECASE)  # a query string's key=...
_KEY_VALUE = re.compile(KEY_PREFIX + r"[A-Za-z0-9]+")


def redact(text: str) -> str:
    """`text` without key values: `key=pa_live_abcd...` -> `key=REDACTED`, a bare key -> pa_live_REDACTED."""
    return _KEY_VALUE.sub(KEY_PREFIX + REDACTED, _KEY_PARAM.sub(r"\g<1>" + REDACTED, text))


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(RedactingJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's ANSI-coloured duplicate
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log (which would show query strings) is replaced by pulse.access (JSON,
    # with the path, route and duration; never the query string). `pulse serve` turns it off too.
    # Their level follows the root's (uvicorn.Config sets its own, which would hide their lines).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").disabled = True
