"""The installed modules: every registry name whose package `pulse.modules.<name>` exists.

Discovered on first use, never at import time: a module's package imports the app's shared
pieces (deps, auth, GraphQL helpers), which may themselves ask for the installed modules.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache

from pulse.modules.module import Module, Payload
from pulse.modules.registry import MODULES


@cache
def installed() -> tuple[Module, ...]:
    """The installed modules, in registry order."""
    found = []
    for name in MODULES:
        if importlib.util.find_spec(f"pulse.modules.{name}") is None:
            continue
        module = importlib.import_module(f"pulse.modules.{name}").MODULE
        assert module.name == name, f"pulse.modules.{name} declares module {module.name!r}"
        found.append(module)
    return tuple(found)


@cache
def payloads() -> dict[str, tuple[Module, Payload]]:
    """Every collected payload type, with the module that owns it."""
    table: dict[str, tuple[Module, Payload]] = {}
    for module in installed():
        for payload in module.payloads:
            assert payload.type not in table, f"payload type {payload.type!r} is declared twice"
            table[payload.type] = (module, payload)
    return table
