"""Identity: identify calls, visitor profiles and traits, user aliases, accounts."""

from pulse.modules.identity import payloads, tables
from pulse.modules.module import Module

MODULE = Module("identity", payloads=payloads.PAYLOADS, tables=tables.TABLES)
