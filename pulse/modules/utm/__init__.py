"""UTM campaign reports: campaigns, top sources and mediums, and a daily series for one source."""

from pulse.modules.module import Module
from pulse.modules.utm import reports

MODULE = Module("utm", reports=reports.REPORTS)
