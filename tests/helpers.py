"""Helpers shared by test modules (fixtures live in the conftest files): import them from here,
never from another test module."""

from __future__ import annotations

import os
import subprocess
import sys
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
