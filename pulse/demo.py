"""`pulse demo`: a realistic dataset, stored by the same batch storage ingestion uses.

The generator builds enriched `Record`s, as the request side would have made them (source and
channel from `classify_referrer`, UTM tags from `extract_utm`, browser/OS/device from
`parse_user_agent`), and stores them with the writer's batch storage (pulse.ingest.storage), so
sessions, visitors and the daily rollups are kept exactly as for collected traffic.

The model, in two passes:
1. Plan. Each visitor gets a country (hence a time zone and a language) and a user agent. A
   visitor's visits are a Poisson process in "activity time": the cumulative traffic weight of
   the hours (hour of day and weekday in the visitor's zone, slight growth), so few visits
   land at night or at weekends. Most visitors come once; the rest return every ~1-12 days for
   a few weeks (heavy-tailed visit counts). Returning visitors' histories start up to
   HISTORY_DAYS before the window, so the first days are not short of returning traffic.
   Every visit is packed into one integer (start second, pageview count, returning flag,
   visitor) in a bucket per day: ~8 bytes a session.
2. Emit, in time order, day by day. A visit takes a source (a returning visitor is more often
   direct), a landing page that suits the source, then pages following the site's sections,
   with dwell times of seconds to minutes, and now and then a conversion event. A visit's
   records always travel in the same chunk; chunks follow time, which keeps storage's
   rollup rows per chunk few (one or two days' worth) and its caches warm.

`run_demo(days=N)` fills the N days before now *and* the N days before those (90 in all at most,
what ingestion accepts), so the dashboard's comparison with the previous period of equal length
compares like with like: the default 30-day view shows a month of traffic a little up on the month
before (DAILY_GROWTH), not a jump from nothing.

Same seed, same `now`: same data. Event ids are random (uuid4), as at ingestion.

Batch storage is meant to be a project's only author (see storage.py): while a `pulse serve`
writes traffic of the same project, its writer's cached rollup bitmaps can overwrite the demo's
additions (and vice versa). A new Demo project is safe; `--project` is best used while the
project receives no traffic.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import accumulate
from uuid import UUID

from pulse.ingest.campaigns import click_ids, extract_utm
from pulse.ingest.payloads import MAX_AGE
from pulse.ingest.records import Record
from pulse.ingest.referrers import classify_referrer
from pulse.modules.core.payloads import EventData

DEMO_NAME = "Demo"
DEMO_DOMAIN = "demo.pulse.local"
MAX_DAYS = MAX_AGE.days  # ingestion accepts timestamps up to 90 days old
MAX_VISITORS = 10_000_000
DEFAULT_VISITORS = 4_000  # over the default 30 days and the 30 before them: ~2,300 in the 30-day view
DEFAULT_DAYS = 30
CHUNK_RECORDS = 20_000

HISTORY_DAYS = 60  # returning visitors may have started visiting this long before the window
P_RETURNER = 0.3  # share of visitors who come back at all
GAP_DAYS = (0.7, 12.0)  # a returner's mean days between visits: log-uniform in this range
LIFETIME_DAYS = 21.0  # mean time a returner keeps coming back (exponential)
MAX_VISITS = 200
MIN_GAP_S = 2 * 3600  # between a visitor's visits (a closer one is skipped), so that with
LONGEST_VISIT_S = 85 * 60  # visits this long at most, no two visits are ever one session
RETURN_DIRECT = 0.35  # a returning visit comes direct this often, else from the usual mix
MEAN_PAGEVIEWS = 3.5  # geometric
MAX_PAGEVIEWS = 40
DWELL_MIN_S, DWELL_MEAN_S, DWELL_MAX_S = 4.0, 45.0, 20 * 60.0  # under the 30-minute session timeout
DAILY_GROWTH = 0.005

# Traffic by local hour (0-23) and weekday (Monday first): a B2B software site.
HOUR_PROFILE = (0.18, 0.12, 0.09, 0.08, 0.08, 0.11, 0.2, 0.38, 0.65, 0.88, 1.0, 1.0,
                0.95, 0.98, 1.0, 0.97, 0.9, 0.78, 0.66, 0.6, 0.6, 0.55, 0.42, 0.28)
WEEKDAY_PROFILE = (1.0, 1.04, 1.02, 0.98, 0.86, 0.52, 0.56)

# path, title, popularity, section. Popularity drives navigation; landing pages have their own mix.
PAGES = (
    ("/", "Pulse Demo: privacy-friendly web analytics", 30, "home"),
    ("/pricing", "Pricing", 14, "product"),
    ("/features", "Features", 8, "product"),
    ("/customers", "Customers", 2, "product"),
    ("/integrations", "Integrations", 2.5, "product"),
    ("/integrations/nextjs", "Next.js integration", 1.2, "product"),
    ("/integrations/wordpress", "WordPress integration", 1, "product"),
    ("/security", "Security", 1, "product"),
    ("/signup", "Create your account", 5, "account"),
    ("/login", "Log in", 6, "account"),
    ("/checkout", "Checkout", 0, "account"),  # reached by the purchase flow only
    ("/docs", "Documentation", 10, "docs"),
    ("/docs/getting-started", "Getting started", 8, "docs"),
    ("/docs/installation", "Installation", 6, "docs"),
    ("/docs/tracking-script", "The tracking script", 4, "docs"),
    ("/docs/custom-events", "Custom events", 3, "docs"),
    ("/docs/api", "HTTP API", 4, "docs"),
    ("/docs/graphql", "GraphQL API", 3, "docs"),
    ("/docs/self-hosting", "Self-hosting", 3.5, "docs"),
    ("/docs/privacy", "Privacy and consent", 2, "docs"),
    ("/docs/faq", "FAQ", 2, "docs"),
    ("/blog", "Blog", 5, "blog"),
    ("/blog/why-we-built-pulse", "Why we built Pulse", 4, "blog"),
    ("/blog/cookieless-analytics-explained", "Cookieless analytics, explained", 3, "blog"),
    ("/blog/migrating-from-google-analytics", "Migrating from Google Analytics", 2.5, "blog"),
    ("/blog/gdpr-compliant-analytics", "GDPR-compliant analytics", 2, "blog"),
    ("/blog/postgres-for-analytics", "PostgreSQL for analytics", 2, "blog"),
    ("/blog/roaring-bitmaps", "Counting visitors with roaring bitmaps", 1.5, "blog"),
    ("/blog/launch-week", "Launch week recap", 1.2, "blog"),
    ("/blog/self-hosting-on-a-raspberry-pi", "Self-hosting on a Raspberry Pi", 1, "blog"),
    ("/changelog", "Changelog", 2, "company"),
    ("/about", "About us", 2, "company"),
    ("/careers", "Careers", 0.6, "company"),
    ("/contact", "Contact", 1, "company"),
    ("/privacy", "Privacy policy", 0.8, "company"),
    ("/terms", "Terms of service", 0.4, "company"),
)
# Where visitors go next, beyond popularity and staying in the section.
FLOWS = {
    "/": {"/pricing": 8, "/features": 6, "/docs": 4, "/signup": 2, "/login": 3},
    "/pricing": {"/signup": 10, "/features": 3, "/docs/self-hosting": 2, "/contact": 1},
    "/features": {"/pricing": 8, "/signup": 3, "/integrations": 2},
    "/docs": {"/docs/getting-started": 12, "/docs/installation": 5},
    "/docs/getting-started": {"/docs/installation": 8, "/docs/tracking-script": 5},
    "/docs/installation": {"/docs/tracking-script": 6, "/docs/self-hosting": 4},
    "/blog": {"/blog/why-we-built-pulse": 6, "/blog/cookieless-analytics-explained": 4},
    "/login": {"/docs": 4, "/pricing": 2},
}
SAME_SECTION, SAME_PAGE = 3.0, 0.15

LANDINGS = {
    "direct": {"/": 60, "/login": 14, "/pricing": 9, "/docs": 8, "/features": 4, "/blog": 3, "/changelog": 2},
    "search": {"/": 22, "/pricing": 7, "/features": 5, "/docs/getting-started": 10, "/docs/installation": 8,
               "/docs/api": 4, "/docs/graphql": 3, "/docs/self-hosting": 5, "/docs/privacy": 3,
               "/blog/cookieless-analytics-explained": 9, "/blog/migrating-from-google-analytics": 9,
               "/blog/gdpr-compliant-analytics": 7, "/blog/postgres-for-analytics": 3, "/integrations/nextjs": 2,
               "/integrations/wordpress": 2},
    "social": {"/": 20, "/blog/why-we-built-pulse": 22, "/blog/roaring-bitmaps": 14,
               "/blog/postgres-for-analytics": 14, "/blog/launch-week": 12, "/blog/self-hosting-on-a-raspberry-pi": 10,
               "/pricing": 4, "/changelog": 4},
    "ai": {"/": 30, "/pricing": 15, "/features": 8, "/docs/getting-started": 14, "/docs/self-hosting": 15,
           "/blog/migrating-from-google-analytics": 14, "/docs/graphql": 4},
    "email": {"/blog/launch-week": 25, "/changelog": 30, "/blog/roaring-bitmaps": 20,
              "/blog/postgres-for-analytics": 15, "/pricing": 10},
    "paid": {"/": 40, "/pricing": 40, "/features": 20},
    "dev": {"/docs/self-hosting": 35, "/docs/installation": 28, "/": 25, "/docs": 12},
}

# weight, referrer, landing-page query (UTM tags, ad click IDs), landing mix
SOURCES = (
    (33.0, None, None, "direct"),
    (22.0, "https://www.google.com/", None, "search"),
    (3.0, "https://www.bing.com/", None, "search"),
    (2.0, "https://duckduckgo.com/", None, "search"),
    (2.5, "https://t.co/", None, "social"),
    (2.0, "https://www.linkedin.com/", None, "social"),
    (2.0, "https://www.reddit.com/r/selfhosted/", None, "social"),
    (2.5, "https://news.ycombinator.com/", None, "social"),
    (3.0, "https://chatgpt.com/", None, "ai"),
    (1.2, "https://www.perplexity.ai/", None, "ai"),
    (3.0, None, "utm_source=newsletter&utm_medium=email&utm_campaign=weekly_digest", "email"),
    (1.2, None, "utm_source=newsletter&utm_medium=email&utm_campaign=product_update", "email"),
    (2.2, "https://www.google.com/",
     "utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_term=web+analytics&gclid=demo", "paid"),
    (1.8, "https://www.google.com/",
     "utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=pulse+analytics&gclid=demo", "paid"),
    (1.0, "https://www.google.com/",
     "utm_source=google&utm_medium=cpc&utm_campaign=competitors&utm_term=google+analytics+alternative"
     "&utm_content=comparison&gclid=demo", "paid"),
    (3.0, "https://github.com/", None, "dev"),
    (0.8, "https://dev.to/", None, "dev"),
)

USER_AGENTS = (  # weight, user agent
    (26, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
         "Safari/537.36"),
    (12, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Safari/537.36"),
    (7, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
        "Safari/605.1.15"),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 Edg/131.0.0.0"),
    (4, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    (2, "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    (2, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    (1, "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36"),
    (1, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 OPR/115.0.0.0"),
    (15, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/18.1 Mobile/15E148 Safari/604.1"),
    (3, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"),
    (11, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
         "Safari/537.36"),
    (3, "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 "
        "Chrome/122.0.0.0 Mobile Safari/537.36"),
    (1, "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"),
    (3, "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
        "Mobile/15E148 Safari/604.1"),
    (1, "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36"),
)
SCREENS = {"Desktop": ("1920x1080", "1920x1080", "1536x864", "1440x900", "2560x1440", "1366x768"),
           "Mobile": ("390x844", "393x873", "412x915", "375x667", "430x932"),
           "Tablet": ("820x1180", "768x1024", "800x1280")}

COUNTRIES = (  # code, weight, UTC offset (hours), language
    ("US", 30, -6, "en-US"), ("GB", 8, 0, "en-GB"), ("DE", 8, 1, "de-DE"), ("IN", 9, 5.5, "en-IN"),
    ("CA", 4, -5, "en-CA"), ("FR", 5, 1, "fr-FR"), ("BR", 4, -3, "pt-BR"), ("JP", 3, 9, "ja-JP"),
    ("AU", 3, 10, "en-AU"), ("NL", 3, 1, "nl-NL"), ("ES", 2, 1, "es-ES"), ("IT", 2, 1, "it-IT"),
    ("PL", 1.5, 1, "pl-PL"), ("SE", 1.5, 1, "sv-SE"), ("CH", 1, 1, "de-CH"), ("MX", 1.5, -6, "es-MX"),
    ("SG", 1, 8, "en-SG"), ("KR", 1, 9, "ko-KR"), ("ID", 1, 7, "id-ID"), ("NG", 0.8, 1, "en-NG"),
)

# Conversions, per visit. A purchase needs two pageviews (pricing, then checkout).
P_SIGNUP, P_PURCHASE, P_CART_ONLY, P_NEWSLETTER = 0.03, 0.014, 0.015, 0.015
SIGNUPS = ((5, {"plan": "free", "method": "email"}), (3, {"plan": "free", "method": "github"}),
           (2, {"plan": "trial", "method": "google"}))
PLANS = (  # plan, billing, price (USD), weight
    ("starter", "monthly", "19.00", 25), ("starter", "yearly", "190.00", 10),
    ("pro", "monthly", "49.00", 32), ("pro", "yearly", "490.00", 13),
    ("business", "monthly", "149.00", 14), ("business", "yearly", "1490.00", 6),
)
NEWSLETTERS = ((3, {"list": "weekly"}), (1, {"list": "product_updates"}))


class Weighted:
    """A weighted choice made with one bisect over precomputed cumulative weights."""

    __slots__ = ("items", "cum", "total", "hi")

    def __init__(self, pairs) -> None:
        pairs = [(item, weight) for item, weight in pairs if weight > 0]
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]
        self.hi = len(self.items) - 1

    def pick(self, rand) -> object:
        return self.items[bisect_right(self.cum, rand() * self.total, 0, self.hi)]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a visit came from, as ingestion would have recorded its landing pageview."""

    referrer: str | None
    source: str | None
    channel: str
    utm: tuple[str | None, str | None, str | None, str | None, str | None]
    landing: Weighted  # of page indexes


def origin(referrer: str | None, query: str | None, landing: Weighted, domain: str) -> Origin:
    url = f"https://{domain}/" + (f"?{query}" if query else "")
    utm = extract_utm(None, url)
    referral = classify_referrer(referrer, own_domain=domain, utm_source=utm.source, utm_medium=utm.medium,
                                 click_ids=click_ids(url))
    return Origin(None if referral.is_internal else referrer, referral.source, referral.channel,
                  (utm.source, utm.medium, utm.campaign, utm.content, utm.term), landing)


_V4_VERSION = bytes((b & 0x0F) | 0x40 for b in range(256))
_V4_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


def uuid4_bytes(count: int) -> list[bytes]:
    """`count` random version-4 UUIDs' bytes, as uuid.uuid4().bytes but ~10x cheaper in bulk."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_V4_VERSION)
    raw[8::16] = raw[8::16].translate(_V4_VARIANT)
    data = bytes(raw)
    return [data[i:i + 16] for i in range(0, 16 * count, 16)]


class DemoGenerator:
    """Plans `visitors` visitors' visits over the `days` before `now`, then emits their records."""

    def __init__(self, *, visitors: int, days: int, seed: int | None = None, now: datetime | None = None,
                 hostname: str = DEMO_DOMAIN, first_visitor: int = 0) -> None:
        if not 1 <= visitors <= MAX_VISITORS:
            raise ValueError(f"visitors must be between 1 and {MAX_VISITORS}")
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be between 1 and {MAX_DAYS}")
        self.visitors, self.days, self.hostname, self.first_visitor = visitors, days, hostname, first_visitor
        self.rng = random.Random(seed)
        now = (now or datetime.now(UTC)).astimezone(UTC)
        self.end = int(now.timestamp())  # seconds
        self.start = self.end - days * 86_400
        self._tables()
        self._plan()

    # -- tables --------------------------------------------------------------------------------

    def _tables(self) -> None:
        from pulse.ingest.useragent import parse_user_agent  # loads parser tables: only when generating

        domain = self.hostname
        self.paths = [p[0] for p in PAGES]
        self.titles = [p[1] for p in PAGES]
        index = {path: i for i, path in enumerate(self.paths)}
        self.blog = frozenset(i for i, p in enumerate(PAGES) if p[3] == "blog" and p[0] != "/blog")
        self.pricing, self.checkout, self.signup = index["/pricing"], index["/checkout"], index["/signup"]
        self.next_page = []
        for i, (path, _, _, section) in enumerate(PAGES):
            flows = FLOWS.get(path, {})
            self.next_page.append(Weighted(
                (j, weight * (SAME_PAGE if j == i else SAME_SECTION if other == section else 1.0)
                 + flows.get(other_path, 0))
                for j, (other_path, _, weight, other) in enumerate(PAGES)))
        landings = {name: Weighted((index[path], w) for path, w in mix.items()) for name, mix in LANDINGS.items()}
        self.origins = Weighted((origin(ref, query, landings[mix], domain), weight)
                                for weight, ref, query, mix in SOURCES)
        self.direct = origin(None, None, landings["direct"], domain)
        # Later pageviews of a visit: the referrer is the site itself.
        self.internal = origin(f"https://{domain}/", None, landings["direct"], domain)
        self.untagged = classify_referrer(None, own_domain=domain)  # what an event without a referrer gets
        agents = []
        for weight, ua in USER_AGENTS:
            agent = parse_user_agent(ua)
            assert not agent.is_bot, ua
            agents.append(((agent.browser, agent.os, agent.device_type, SCREENS.get(agent.device_type, ("",))),
                           weight))
        self.agents = Weighted(((i, info), weight) for i, (info, weight) in enumerate(agents))
        self.agent_info = [a for a, _ in agents]
        self.countries = Weighted(((i, country), country[1]) for i, country in enumerate(COUNTRIES))
        self.signups = Weighted((EventData("signup", data), w) for w, data in SIGNUPS)
        self.plans = Weighted(((EventData("add_to_cart", {"plan": plan, "billing": billing}),
                                EventData("purchase", {"plan": plan, "billing": billing}, Decimal(price), "USD")), w)
                              for plan, billing, price, w in PLANS)
        self.newsletters = Weighted((EventData("newsletter_subscribe", data), w) for w, data in NEWSLETTERS)

    def _zones(self, origin_s: int, hours: int) -> dict[float, tuple[list[float], list[float]]]:
        """Per UTC offset: hourly traffic weights from `origin_s` on, and their running sums."""
        zones = {}
        for offset in sorted({c[2] for c in COUNTRIES}):
            shift = int(offset * 3600) + 1800  # each hour weighed at its middle, in local time
            weights = []
            for h in range(hours):
                local = origin_s + h * 3600 + shift
                weekday = (local // 86_400 + 3) % 7  # 1970-01-01 was a Thursday
                weights.append(HOUR_PROFILE[local % 86_400 // 3600] * WEEKDAY_PROFILE[weekday]
                               * (1 + DAILY_GROWTH) ** (h / 24))
            zones[offset] = (weights, list(accumulate(weights)))
        return zones

    # -- pass 1: when each visitor visits ----------------------------------------------------------

    def _plan(self) -> None:
        rng, n = self.rng, self.visitors
        rand, expovariate, uniform = rng.random, rng.expovariate, rng.uniform
        origin_s = (self.start // 3600 - HISTORY_DAYS * 24) * 3600
        hours = (self.end - origin_s) // 3600 + 1
        zones = self._zones(origin_s, hours)
        first_s, last_s = self.start - origin_s, self.end - origin_s - 60  # window, in seconds from origin
        self.buckets = [array("q") for _ in range(self.days + 1)]
        self.country_of, self.agent_of = bytearray(n), bytearray(n)
        log_q = math.log(1 - 1 / MEAN_PAGEVIEWS)
        low_gap, high_gap = math.log(GAP_DAYS[0]), math.log(GAP_DAYS[1])
        planned = sessions = 0
        country_pick, agent_pick = self.countries.pick, self.agents.pick

        for v in range(n):
            c, country = country_pick(rand)
            self.country_of[v] = c
            self.agent_of[v] = agent_pick(rand)[0]
            weights, cum = zones[country[2]]
            total, hi = cum[-1], hours - 1
            per_day = total / (hours / 24)

            def seconds(u: float, weights=weights, cum=cum, hi=hi) -> float:
                h = bisect_right(cum, u, 0, hi)
                before = cum[h - 1] if h else 0.0
                return (h + (u - before) / weights[h]) * 3600

            if rand() < P_RETURNER:
                mean_gap = math.exp(uniform(low_gap, high_gap)) * per_day
                lifetime = expovariate(1 / LIFETIME_DAYS) * per_day
                while True:  # a history that reaches into the window
                    u = rand() * total
                    end_u = min(u + lifetime, total)
                    visits, previous, returning = [], -MIN_GAP_S, 0
                    while u < end_u and len(visits) < MAX_VISITS:
                        s = seconds(u)
                        if s - previous >= MIN_GAP_S:
                            if first_s <= s <= last_s:
                                visits.append((int(s) - first_s, returning))
                            previous, returning = s, 1
                        u += expovariate(1 / mean_gap)
                    if visits:
                        break
            else:
                u0 = _cum_at(cum, weights, first_s)
                s = seconds(u0 + rand() * (total - u0))
                visits = [(min(max(int(s), first_s), last_s) - first_s, 0)]
            for second, returning in visits:
                pageviews = min(1 + int(math.log(1.0 - rand()) / log_q), MAX_PAGEVIEWS)
                planned += pageviews
                self.buckets[second // 86_400].append(((second * 64 + pageviews) * 2 + returning) * n + v)
            sessions += len(visits)
        self.planned_pageviews, self.planned_sessions = planned, sessions

    # -- pass 2: what each visit does -------------------------------------------------------------

    def chunks(self, size: int = CHUNK_RECORDS) -> Iterator[tuple[list[Record], int]]:
        """Records in chunks of about `size` (a visit is never split), in time order, with each
        chunk's pageview count. Pageviews that would fall after `now` are left out. Iterate once:
        the plan is freed as it is emitted."""
        rng, n = self.rng, self.visitors
        rand, expovariate = rng.random, rng.expovariate
        host, paths, titles, next_page = self.hostname, self.paths, self.titles, self.next_page
        internal, direct, origins, untagged = self.internal, self.direct, self.origins, self.untagged
        pick_origin = origins.pick
        countries, agent_info = COUNTRIES, self.agent_info
        country_of, agent_of = self.country_of, self.agent_of
        start_us, end_us = self.start * 1_000_000, self.end * 1_000_000
        dwell_rate = 1 / (DWELL_MEAN_S - DWELL_MIN_S)
        longest_visit_us = int((LONGEST_VISIT_S - MAX_PAGEVIEWS * DWELL_MIN_S) * 1_000_000)
        dwell_min_us = int(DWELL_MIN_S * 1_000_000)
        first_visitor = self.first_visitor
        records: list[Record] = []
        ids: list[bytes] = []
        pageviews_in_chunk = 0

        for bucket in self.buckets:
            keys = sorted(bucket)
            for key in keys:
                v = key % n
                rest = key // n
                returning = rest & 1
                rest >>= 1
                pageviews = rest & 63
                second = rest >> 6
                visitor = f"demo-{first_visitor + v}"
                code, _, _, language = countries[country_of[v]]
                browser, os_name, device, screens = agent_info[agent_of[v]]
                screen = screens[v % len(screens)]
                came = direct if returning and rand() < RETURN_DIRECT else pick_origin(rand)

                # The pages, then the conversions this visit makes.
                page = came.landing.pick(rand)
                pages = [page]
                for _ in range(pageviews - 1):
                    page = next_page[page].pick(rand)
                    pages.append(page)
                events = None
                if rand() < P_PURCHASE and pageviews >= 2:
                    cart, purchase = self.plans.pick(rand)
                    pages[-2], pages[-1] = self.pricing, self.checkout
                    events = [(pageviews - 2, cart), (pageviews - 1, purchase)]
                elif rand() < P_CART_ONLY:
                    if self.pricing not in pages:
                        pages[-1] = self.pricing
                    events = [(pages.index(self.pricing), self.plans.pick(rand)[0])]
                if rand() < P_SIGNUP:
                    if self.signup not in pages and self.checkout not in pages:
                        pages[-1] = self.signup
                    at = pages.index(self.signup) if self.signup in pages else pageviews - 1
                    events = (events or []) + [(at, self.signups.pick(rand))]
                if rand() < P_NEWSLETTER:
                    at = next((i for i, p in enumerate(pages) if p in self.blog), 0)
                    events = (events or []) + [(at, self.newsletters.pick(rand))]

                if len(ids) < pageviews + 8:
                    ids = uuid4_bytes(4096)
                ts = start_us + second * 1_000_000 + int(rand() * 1_000_000)
                last_us = ts + longest_visit_us
                stamps = []
                made = 0
                for i, page in enumerate(pages):
                    if ts > end_us:
                        break
                    o = came if i == 0 else internal
                    utm = o.utm
                    records.append(Record(
                        ids.pop(), "pageview", ts, visitor, None, None, host, paths[page], titles[page],
                        o.referrer, o.source, o.channel, utm[0], utm[1], utm[2], utm[3], utm[4],
                        code, None, None, browser, os_name, device, screen, language, None))
                    stamps.append(ts)
                    made += 1
                    ts += int((DWELL_MIN_S + min(expovariate(dwell_rate), DWELL_MAX_S)) * 1_000_000)
                    if ts > last_us:  # a long visit's last pages go by quickly
                        ts = stamps[-1] + dwell_min_us
                pageviews_in_chunk += made
                if events:
                    stamps.append(ts)
                    for at, data in events:
                        if at >= made:
                            continue
                        # Within the time on that page: before the next pageview.
                        when = stamps[at] + int((stamps[at + 1] - stamps[at]) * (0.2 + 0.6 * rand()))
                        if when > end_us:
                            continue
                        records.append(Record(
                            ids.pop(), "event", when, visitor, None, None, host, paths[pages[at]], None,
                            None, untagged.source, untagged.channel, None, None, None, None, None,
                            code, None, None, browser, os_name, device, screen, language, data))
                if len(records) >= size:
                    yield records, pageviews_in_chunk
                    records, pageviews_in_chunk = [], 0
            bucket[:] = array("q")  # emitted: free it
        if records:
            yield records, pageviews_in_chunk


def _cum_at(cum: list[float], weights: list[float], second: float) -> float:
    """The running traffic weight at `second` (from the grid's origin)."""
    h = int(second // 3600)
    before = cum[h - 1] if h else 0.0
    return before + weights[h] * (second / 3600 - h)


# -- the command -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoResult:
    project_id: UUID
    ingest_key: str | None  # keys of a project the demo created; None with an existing project
    query_key: str | None
    visitors: int
    sessions: int  # visits planned (storage may join a few that fall within 30 minutes)
    pageviews: int
    events: int
    seconds: float
    days: int  # days generated: the view's and the previous period's

    @property
    def rate(self) -> float:
        """Pageviews generated and written per second."""
        return self.pageviews / self.seconds if self.seconds > 0 else 0.0


async def create_demo_project(runtime) -> tuple[UUID, str, str, str]:
    """A "Demo" project with an ingest and a query key: (id, domain, ingest key, query key)."""
    from pulse.admin import service
    from pulse.db import commit

    async with runtime.session() as session:
        project, ingest, query = await service.create_project_with_keys(
            session=session, name=DEMO_NAME, domain=DEMO_DOMAIN)
        await commit(session)
    return project.id, project.domain, ingest, query


async def existing_project(runtime, project_id: str | UUID) -> tuple[UUID, str, int]:
    """An existing project's id, its domain and how many visitors it has numbered (NotFound if none)."""
    from sqlalchemy import text

    from pulse.admin import service

    async with runtime.read_session() as session:
        project = await service.get_project(session=session, project_id=project_id)
        numbered = await session.scalar(
            text("SELECT next_no - 1 FROM visitor_counters WHERE project_id = :p"), {"p": project.id})
    return project.id, project.domain, numbered or 0


def span_days(days: int) -> int:
    """The days generated for a view of `days`: those and the previous period of equal length, at most MAX_DAYS."""
    return min(2 * days, MAX_DAYS)


async def run_demo(runtime, *, visitors: int = DEFAULT_VISITORS, days: int = DEFAULT_DAYS,
                   project_id: str | UUID | None = None,
                   seed: int | None = None, now: datetime | None = None, chunk_size: int = CHUNK_RECORDS,
                   progress: bool | None = False) -> DemoResult:
    """Generate the dataset and write it; with `project_id`, into that project (errors.NotFound when
    it does not exist), else into a new Demo project. `visitors` visitors in all, over the `days`
    before `now` and the previous period of as many days (span_days). `progress`: a tqdm bar on stderr
    (None: only on a terminal)."""
    from tqdm import tqdm

    from pulse.ingest.storage import Storage

    if not 1 <= visitors <= MAX_VISITORS:
        raise ValueError(f"visitors must be between 1 and {MAX_VISITORS:,}")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    ingest_key = query_key = None
    if project_id is None:
        pid, domain, ingest_key, query_key = await create_demo_project(runtime)
        first_visitor = 0
    else:
        pid, domain, first_visitor = await existing_project(runtime, project_id)

    started = time.perf_counter()
    generator = DemoGenerator(visitors=visitors, days=span_days(days), seed=seed, now=now, hostname=domain,
                              first_visitor=first_visitor)
    storage = Storage(runtime.writer_engine)
    pageviews = events = 0
    with tqdm(total=generator.planned_pageviews, unit="pv", unit_scale=True, desc="pageviews", file=sys.stderr,
              disable=None if progress is None else not progress, smoothing=0.05) as bar:
        for records, chunk_pageviews in generator.chunks(chunk_size):
            await storage.write(pid, records)
            pageviews += chunk_pageviews
            events += len(records) - chunk_pageviews
            bar.update(chunk_pageviews)
        if bar.total != pageviews:  # visits cut short at `now`
            bar.total = pageviews
            bar.refresh()
    return DemoResult(pid, ingest_key, query_key, visitors, generator.planned_sessions, pageviews, events,
                      time.perf_counter() - started, generator.days)
