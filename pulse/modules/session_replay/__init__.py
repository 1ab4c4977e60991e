"""Session replay: recorder events, stored in chunks per recording."""

from pulse.modules.module import Module
from pulse.modules.session_replay import payloads, tables

MODULE = Module("session_replay", payloads=payloads.PAYLOADS, tables=tables.TABLES)
