"""The 33 modules of the API reference, and what a new project starts with.

Defaults: everything a privacy-friendly web analytics site expects is on. Off until an admin
turns them on: modules that collect more personal data (session replay, heatmaps); that reach
out to or take data from other systems (sources, destinations, BI connections, email reports,
alerts); that act on visitors (feature flags, experiments, surveys); that profile visitors
(predictions, AI queries over their data); and governance, which can reject events at ingest
and so must be set up on purpose. Every module starts with access `all`. `core` is always on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    ALL = "all"

    def allows(self, action: Action) -> bool:
        return self is Access.ALL or self.value == action.value

    @staticmethod
    def of(value: str) -> Access:
        """Access from its stored value; a dict lookup, much cheaper than Enum's constructor."""
        return _ACCESS_BY_VALUE[value]


_ACCESS_BY_VALUE = {a.value: a for a in Access}


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    name: str
    category: str
    description: str
    default_enabled: bool


ALWAYS_ON = "core"


def always_on(name: str) -> bool:
    """Whether module `name` can never be disabled (listed as enabled whatever is stored)."""
    return name == ALWAYS_ON


def is_enabled(name: str, stored_enabled: bool) -> bool:
    """Whether module `name` is on for a project whose stored setting is `stored_enabled`."""
    return stored_enabled or always_on(name)


_MODULES = [
    # name, category, description, enabled for a new project
    ("core", "core", "Core analytics: pageviews, sessions, events, devices, geo, referrers, realtime", True),
    ("identity", "core", "User profiles, IDs, aliases, traits, accounts, and SCIM provisioning", True),
    ("segments", "analysis", "Saved behavioral and identity-based visitor segments", True),
    ("dashboards", "analysis", "Custom dashboards, saved reports, query explorer, and product insights", True),
    ("funnels", "analysis", "Multi-step conversion funnels", True),
    ("goals", "analysis", "Goal and conversion tracking", True),
    ("retention", "analysis", "User retention cohort analysis", True),
    ("cohorts", "analysis", "Grouped cohort metric comparison", True),
    ("paths", "analysis", "User navigation path analysis", True),
    ("bi", "analysis",
     "Safe SQL, embeds, external connections, semantic metrics, visual queries, and CSV uploads", False),
    ("utm", "tracking", "UTM campaign parameter tracking", True),
    ("webvitals", "tracking", "Core Web Vitals (LCP, FCP, CLS, INP, TTFB)", True),
    ("scroll", "tracking", "Scroll depth measurement per page", True),
    ("revenue", "tracking", "Revenue and ecommerce event tracking", True),
    ("search", "tracking", "Internal site search query tracking", True),
    ("outlinks", "tracking", "External link clicks and file download tracking", True),
    ("error_tracking", "tracking", "JavaScript error capture and grouping", True),
    ("logs", "tracking", "Application log ingestion with release filtering", True),
    ("feature_flags", "experience",
     "Feature flags, remote config, targeting rules, and rollout evaluation", False),
    ("ab_testing", "experience", "A/B experiment management and results", False),
    ("session_replay", "experience", "Privacy-masked session recording and playback", False),
    ("heatmaps", "experience", "Click heatmap data collection", False),
    ("surveys", "experience", "In-app survey builder and response collection", False),
    ("ai_queries", "experience",
     "Natural-language analytics answers, generated insights, and query history", False),
    ("predictions", "experience", "Predictive analytics and churn probability", False),
    ("exports", "platform", "CSV data export for all report types", True),
    ("integrations", "platform",
     "Integrations marketplace catalog for sources, destinations, SDKs, and imports", True),
    ("sources", "platform", "Source catalog, webhook collection, ingestion audit, and source tokens", False),
    ("destinations", "platform", "Destination catalog, event routing, retries, and dead letters", False),
    ("sharing", "platform", "Password-protected shared dashboards", True),
    ("governance", "platform", "Tracking plans, event schemas, data dictionary, and quality monitoring", False),
    ("email_reports", "platform", "Scheduled analytics digests via delivery webhook", False),
    ("alerts", "platform", "Threshold-based alert rules and notifications", False),
]

MODULES: dict[str, ModuleInfo] = {name: ModuleInfo(name, cat, desc, on) for name, cat, desc, on in _MODULES}
DEFAULT_ACCESS = Access.ALL

assert len(MODULES) == 33, "the API reference lists 33 modules"
