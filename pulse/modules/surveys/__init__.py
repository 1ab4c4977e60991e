"""Surveys: the answers visitors give to in-page surveys."""

from pulse.modules.module import Module
from pulse.modules.surveys import payloads, tables

MODULE = Module("surveys", payloads=payloads.PAYLOADS, tables=tables.TABLES)
