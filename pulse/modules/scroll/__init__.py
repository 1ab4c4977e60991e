"""Scroll depth: how far down each page visitors scroll."""

from pulse.modules.module import Module
from pulse.modules.scroll import payloads, tables

MODULE = Module("scroll", payloads=payloads.PAYLOADS, tables=tables.TABLES)
