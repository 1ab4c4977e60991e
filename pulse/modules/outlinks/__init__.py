"""Outbound links and downloads: the links visitors leave by."""

from pulse.modules.module import Module
from pulse.modules.outlinks import payloads, tables

MODULE = Module("outlinks", payloads=payloads.PAYLOADS, tables=tables.TABLES)
