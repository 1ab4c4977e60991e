"""Minting API keys: only an admin creates them. What a key looks like and how it is stored
(prefix, format, hash) is shared with the access check, in pulse.auth."""

from __future__ import annotations

import secrets
import string

from pulse.auth import KEY_PREFIX, KEY_RANDOM_LENGTH

_KEY_ALPHABET = string.ascii_letters + string.digits


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(KEY_RANDOM_LENGTH))


def display_prefix(key: str) -> str:
    """The start of a key shown in listings: enough to tell keys apart, never enough to use one."""
    return key[: len(KEY_PREFIX) + 4] + "..."
