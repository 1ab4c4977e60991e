"""Heatmaps: where visitors click on each page."""

from pulse.modules.heatmaps import payloads, tables
from pulse.modules.module import Module

MODULE = Module("heatmaps", payloads=payloads.PAYLOADS, tables=tables.TABLES)
