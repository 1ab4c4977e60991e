"""Web vitals: LCP, FCP, CLS, INP and TTFB as the browser measures them, rated."""

from pulse.modules.module import Module
from pulse.modules.webvitals import payloads, tables

MODULE = Module("webvitals", payloads=payloads.PAYLOADS, tables=tables.TABLES)
