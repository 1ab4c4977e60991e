"""Cookieless visitor ids: a keyed hash of a daily salt, the project, the IP and the user agent.

The salt of each UTC day lives in Redis and expires after 48 hours, so yesterday's ids cannot
be recomputed once it is gone, and the raw IP is never stored anywhere. A client-supplied
`visitor_id` always wins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime
from uuid import UUID

import redis.asyncio as aioredis

SALT_TTL_SECONDS = 48 * 3600


def salt_key(day: date) -> str:
    return f"pulse:salt:{day.isoformat()}"


class Salts:
    """Today's salt, fetched (or created) once per day per process."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._day: date | None = None
        self._salt: bytes = b""

    async def today(self, now: datetime) -> bytes:
        day = now.astimezone(UTC).date()
        if day != self._day:
            key = salt_key(day)
            # Whoever comes first sets it; everyone then reads the same value.
            await self.redis.set(key, secrets.token_hex(32), nx=True, ex=SALT_TTL_SECONDS)
            self._salt = bytes.fromhex(await self.redis.get(key))
            self._day = day
        return self._salt


def visitor_hash(salt: bytes, project_id: UUID, ip: str, user_agent: str) -> str:
    digest = hmac.new(salt, b"|".join((project_id.bytes, ip.encode(), user_agent.encode())),
                      hashlib.sha256).digest()
    return "h_" + base64.b32encode(digest[:15]).decode().lower()
