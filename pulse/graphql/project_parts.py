"""The modules' report fields that `Project` is made of: each module adds its mixin here."""

from __future__ import annotations

from pulse.modules.core.schema import CoreReports
from pulse.modules.utm.schema import UtmReports

PROJECT_PARTS = (CoreReports, UtmReports)
