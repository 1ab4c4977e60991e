"""Field checks for the collected payloads: the small API each module's parser uses.

Every helper raises `Invalid` with the message minus the "Invalid request body: " prefix, which
pulse.ingest.payloads adds. String caps count characters; values that become part of an index key
are also bounded in UTF-8 bytes (pulse.limits). A longer value is rejected, never truncated.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from pulse.limits import (
    MAX_FREEFORM_BYTES,
    MAX_FREEFORM_DEPTH,
    MAX_FREEFORM_KEYS,
    MAX_ID_BYTES,
    MAX_INT,
    MAX_KEY_BYTES,
    MIN_INT,
    utf8_len,
)

__all__ = [
    "INT32", "SAFE_INT", "Invalid", "boolean", "bounded", "encode", "freeform", "ident", "integer", "key_bytes",
    "missing", "must", "number", "opt_int", "opt_str", "req_str", "split_url", "string",
]

INT32: Final = 2_147_483_647
SAFE_INT: Final = 9_007_199_254_740_991  # 2**53 - 1, the largest integer a JS number holds exactly

encode = msgspec.json.encode  # compact JSON, as the free-form bounds are measured


class Invalid(Exception):
    """A payload field that fails its check; the message names the field."""


def must(key: str, what: str) -> Invalid:
    return Invalid(f"field '{key}' must be {what}.")


def missing(key: str, *alternatives: str) -> Invalid:
    """A required field is absent; `alternatives` are fields that would do instead."""
    names = " or ".join(f"'{k}'" for k in (key, *alternatives))
    return Invalid(f"missing required field {names}.")


def string(v: Any, key: str, cap: int) -> str | None:
    """A present optional string: checked type and length; "" counts as absent."""
    if type(v) is not str:
        raise must(key, "a string")
    if len(v) > cap:
        raise must(key, f"at most {cap} characters")
    return v or None


def ident(v: Any, key: str) -> str | None:
    """An id: a string or an integer (turned into a string), at most 200 characters and
    MAX_ID_BYTES in UTF-8; "" counts as absent."""
    if type(v) is int:
        v = str(v)
    elif type(v) is not str:
        raise must(key, "a string")
    if len(v) > 200:
        raise must(key, "at most 200 characters")
    if len(v) > MAX_ID_BYTES // 4 and utf8_len(v) > MAX_ID_BYTES:
        raise must(key, f"at most {MAX_ID_BYTES} bytes in UTF-8")
    return v or None


def key_bytes(v: str, key: str) -> None:
    """An indexed value's bound in bytes (its characters are checked by the caller)."""
    if len(v) > MAX_KEY_BYTES // 4 and utf8_len(v) > MAX_KEY_BYTES:
        raise must(key, f"at most {MAX_KEY_BYTES} bytes in UTF-8")


def req_str(d: dict[str, Any], key: str, cap: int, *, strip: bool = True) -> str:
    """A required non-empty string (trimmed unless `strip` is false)."""
    v = d.get(key)
    if v is None:
        raise missing(key)
    if type(v) is not str:
        raise must(key, "a string")
    if strip:
        v = v.strip()
    if not v:
        raise must(key, "a non-empty string")
    if len(v) > cap:
        raise must(key, f"at most {cap} characters")
    return v


def opt_str(d: dict[str, Any], key: str, cap: int) -> str | None:
    v = d.get(key)
    return None if v is None else string(v, key, cap)


def req_list(d: dict[str, Any], key: str, most: int, noun: str) -> list:
    """A required list of 1 to `most` items (`noun` names them in the error)."""
    v = d.get(key)
    if v is None:
        raise missing(key)
    if type(v) is not list:
        raise must(key, "a list")
    if not 1 <= len(v) <= most:
        raise must(key, f"a list of 1 to {most} {noun}")
    return v


def number(v: Any, key: str, lo: float, hi: float) -> int | float:
    t = type(v)
    if t is not float and t is not int:
        raise must(key, "a number")
    if not lo <= v <= hi:
        raise must(key, f"between {lo} and {hi}")
    return v


def integer(v: Any, key: str, lo: int = 0, hi: int = INT32) -> int:
    """An integer; a float with no fractional part (1440.0) is accepted too."""
    t = type(v)
    if t is float and v.is_integer():
        v = int(v)
    elif t is not int:
        raise must(key, "an integer")
    if not lo <= v <= hi:
        raise must(key, f"between {lo} and {hi}")
    return v


def opt_int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return None if v is None else integer(v, key)


def boolean(d: dict[str, Any], key: str, default: bool) -> bool:
    v = d.get(key)
    if v is None:
        return default
    if v is True or v is False:
        return v
    raise must(key, "true or false")


def freeform(v: Any, key: str) -> dict[str, Any]:
    """A free-form JSON object: size, depth, keys and integers bounded."""
    if v is None:
        return {}
    if type(v) is not dict:
        raise must(key, "an object")
    if not v:
        return v
    raw = encode(v)
    if len(raw) > MAX_FREEFORM_BYTES:
        raise must(key, f"at most {MAX_FREEFORM_BYTES} bytes as JSON")
    bounded(v, raw, key, MAX_FREEFORM_DEPTH, MAX_FREEFORM_KEYS)
    return v


# Nineteen digits or more: the only integers that can fall outside 64 bits. Searched only when the
# text holds that many digits at all (a translate is far cheaper than the search).
_LONG_DIGITS = re.compile(rb"\d{19}")
_NON_DIGITS = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)


def bounded(v: Any, raw: bytes, key: str, depth: int, keys: int | None, *, top: int = 0) -> None:
    """Depth, key count and integer range of a JSON value, given its compact encoding `raw`.

    Walks the value only when `raw` says a bound may be passed: depth can't exceed the number
    of brackets, keys the number of '":' (every key ends so), and a big integer needs 19 digits.
    `top` is the level of `v` itself (-1 for a list whose items are the objects bounded).
    """
    deep = raw.count(b"{") + raw.count(b"[") > depth - top
    many = keys is not None and len(raw) > 4 * keys and raw.count(b'":') > keys  # a key takes 4+ bytes
    big = len(raw.translate(None, _NON_DIGITS)) >= 19 and _LONG_DIGITS.search(raw) is not None
    if not (deep or many or big):
        return
    seen = 0
    stack: list[tuple[Any, int]] = [(v, top)]
    while stack:
        x, level = stack.pop()
        t = type(x)
        if t is dict:
            children: Any = x.values()
            seen += len(x)
        elif t is list:
            children = x
        else:
            if t is int and not MIN_INT <= x <= MAX_INT:
                raise must(key, f"holding integers between {MIN_INT} and {MAX_INT}")
            continue
        if level >= depth:
            raise must(key, f"nested at most {depth} levels deep")
        if keys is not None and seen > keys:
            raise must(key, f"an object of at most {keys} keys in all")
        stack.extend((c, level + 1) for c in children)


def split_url(url: str, key: str) -> tuple[str | None, str]:
    """(hostname, path) of a URL; the path is "/" when there is a host but no path."""
    try:
        parts = urlsplit(url)  # cached by the standard library
    except ValueError:
        raise must(key, "a valid URL") from None
    netloc = parts.netloc
    if not netloc:
        return None, parts.path
    # What SplitResult.hostname does, at a fraction of the cost: drop userinfo and port.
    host = netloc.rpartition("@")[2]
    if host[:1] == "[":
        host = host[1:host.find("]")] if "]" in host else host[1:]
    else:
        host = host.partition(":")[0]
    return host.lower() or None, parts.path or "/"
