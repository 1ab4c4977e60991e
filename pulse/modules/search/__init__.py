"""Site search: the queries visitors type and how many results they get."""

from pulse.modules.module import Module
from pulse.modules.search import payloads, tables

MODULE = Module("search", payloads=payloads.PAYLOADS, tables=tables.TABLES)
