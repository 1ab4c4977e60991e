"""Error tracking: JavaScript errors, grouped by fingerprint."""

from pulse.modules.error_tracking import payloads, tables
from pulse.modules.module import Module

MODULE = Module("error_tracking", payloads=payloads.PAYLOADS, tables=tables.TABLES)
