"""Logs: application log lines sent from browsers, servers and apps."""

from pulse.modules.logs import payloads, tables
from pulse.modules.module import Module

MODULE = Module("logs", payloads=payloads.PAYLOADS, tables=tables.TABLES)
