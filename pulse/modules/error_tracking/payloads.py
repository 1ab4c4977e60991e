"""Error tracking's payload type: js_error.

  js_error         JsErrorData. Required `message`; `error_type` (or `name`, as in JS
                   Error.name), `stack`, `filename`, `lineno`/`colno` integers >= 0,
                   `release`, `environment`.

Each row carries a fingerprint (`error_fingerprint`) that groups errors differing only in
numbers and ids.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec

from pulse.ingest.fields import opt_int, opt_str, req_str
from pulse.ingest.sinks import Copy
from pulse.modules.module import Payload


class JsErrorData(msgspec.Struct, tag="js_error", tag_field="kind", gc=False):
    message: str
    error_type: str | None = None
    stack: str | None = None
    filename: str | None = None
    lineno: int | None = None
    colno: int | None = None
    release: str | None = None
    environment: str | None = None


def parse_js_error(d: dict[str, Any]) -> JsErrorData:
    message = req_str(d, "message", 4000, strip=False)
    etype = opt_str(d, "error_type", 200) if d.get("error_type") is not None else opt_str(d, "name", 200)
    return JsErrorData(
        message, etype, opt_str(d, "stack", 16000), opt_str(d, "filename", 2048),
        opt_int(d, "lineno"), opt_int(d, "colno"),
        opt_str(d, "release", 200), opt_str(d, "environment", 200),
    )


_NUMBERS = re.compile(r"\d+")
_HEX = re.compile(r"0x[0-9a-f]+|[0-9a-f]{8,}", re.IGNORECASE)


def error_fingerprint(message: str, error_type: str | None, filename: str | None) -> str:
    """Group errors that differ only in numbers and ids (line numbers, object ids, counts)."""
    shape = _NUMBERS.sub("N", _HEX.sub("X", message))
    basis = "|".join((error_type or "", shape, (filename or "").split("?", 1)[0]))
    return hashlib.sha1(basis.encode()).hexdigest()[:16]


JS_ERRORS = Copy(
    "js_errors", ("message", "error_type", "stack", "filename", "lineno", "colno", "fingerprint", "release",
                  "environment", "browser", "os"),
    lambda r, _: (r.data.message, r.data.error_type, r.data.stack, r.data.filename, r.data.lineno, r.data.colno,
                  error_fingerprint(r.data.message, r.data.error_type, r.data.filename),
                  r.data.release, r.data.environment, r.browser, r.os))

PAYLOADS = (Payload("js_error", parse_js_error, JsErrorData, sink=JS_ERRORS),)
