"""The request side of ingestion: validate, apply privacy rules, enrich, hand to the stream.

Each step is a small function; `Ingestor.accept` runs them in order. Nothing here touches
PostgreSQL: the writer (writer.py) stores what the stream carries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from redis.exceptions import RedisError

from pulse import errors
from pulse.auth import Caller, check, need
from pulse.ingest.buffer import IngestBuffer
from pulse.ingest.campaigns import click_ids, extract_utm
from pulse.ingest.geo import Geo, GeoLocator, anonymize_ip
from pulse.ingest.payloads import Item, ItemError, parse_collect
from pulse.ingest.records import Entry, Record, encode_entry
from pulse.ingest.referrers import classify_referrer
from pulse.ingest.useragent import UNKNOWN, Agent, is_blocked, is_http_library, parse_user_agent
from pulse.ingest.visitors import Salts, visitor_hash
from pulse.limits import clip
from pulse.modules.registry import Action
from pulse.observability import INGEST_DROPPED
from pulse.privacy.settings import PrivacySettings
from pulse.timestamps import to_micros

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from pulse.config import Settings
    from pulse.pipelining import Pipeliner


@dataclass(frozen=True, slots=True)
class Client:
    """What the request itself says about who sent it."""

    ip: str
    user_agent: str
    do_not_track: bool  # DNT: 1 or Sec-GPC: 1


# Why a payload was dropped on purpose: the `dropped` of a 200 answer and the `reason` label of
# pulse_ingest_dropped_total. Checked in this order; a payload counts under the first that applies.
DNT: Final = "dnt"  # the request sent DNT: 1 or Sec-GPC: 1 and the project respects it (the whole request)
BLOCKED_AGENT: Final = "blocked_agent"  # the request's or the forwarded user agent is in blocked_user_agents
BOT: Final = "bot"  # a bot, crawler, headless browser or bare HTTP library, with bot filtering on
CONSENT: Final = "consent"  # consent is required and the payload was not granted it under an allowed mode
DROP_REASONS: Final = (DNT, BLOCKED_AGENT, BOT, CONSENT)

_DROPPED = {reason: INGEST_DROPPED.labels(reason) for reason in DROP_REASONS}  # each shows in /metrics from 0


def count_drops(drops: dict[str, int]) -> None:
    for reason, count in drops.items():
        _DROPPED[reason].inc(count)


@lru_cache(maxsize=256)
def _module_need(module: str):
    return need(module, "ingest")


def module_refusal(caller: Caller, item: Item) -> str | None:
    """The documented module error when the item's module is off (or outside the key's modules)."""
    try:
        caller_check(caller, item)
    except errors.Forbidden as exc:
        return exc.message
    return None


def caller_check(caller: Caller, item: Item) -> None:
    check(caller, _module_need(item.module), Action.WRITE)


def consented(privacy: PrivacySettings, item: Item) -> bool:
    """With consent required, only payloads granted consent under an allowed mode are kept."""
    if not privacy.consent_required:
        return True
    mode = item.consent_mode or "analytics"
    return item.consent_granted is True and mode in privacy.allowed_consent_modes


# An item a server or app sends for its user, through a generic HTTP library: no bot, and no
# browser, OS or device to tell.
SPOKEN_FOR = Agent(None, None, None, None, UNKNOWN, False)


def agent_of(item: Item, client: Client) -> Agent:
    """The user agent an item is parsed and bot-checked by: the end user's, when a server or mobile
    SDK forwarded it in the payload (classified as any browser's), else the request's header. A
    generic HTTP library's header (an SDK's own, `python-requests`, `okhttp`...) is no bot on an
    item that names its visitor; a self-declared crawler or headless browser always is."""
    if item.user_agent:
        return parse_user_agent(item.user_agent)
    agent = parse_user_agent(client.user_agent)
    if agent.is_bot and item.visitor_id is not None and is_http_library(client.user_agent):
        return SPOKEN_FOR
    return agent


class Ingestor:
    """Accepts collect requests: needs the settings (geo database, shards, backlog bounds), the
    Redis client the daily salts live in and the pipeliner of the stream's client."""

    def __init__(self, settings: Settings, *, redis: aioredis.Redis, stream_pipeliner: Pipeliner) -> None:
        self.locator = GeoLocator(settings.geoip_city_db)
        self.salts = Salts(redis)
        self.buffer = IngestBuffer(stream_pipeliner, shards=settings.ingest_shards,
                                   max_backlog=settings.ingest_max_backlog,
                                   max_backlog_bytes=settings.ingest_max_backlog_bytes)

    async def accept(self, caller: Caller, body: bytes, client: Client, now: datetime) -> dict:
        parsed = parse_collect(body, now=now)
        project = caller.project
        privacy = project.privacy
        problems = [item for item in parsed.items if isinstance(item, ItemError)]
        items = []
        for index, item in enumerate(parsed.items):
            if not isinstance(item, Item):
                continue
            if not parsed.batch:
                caller_check(caller, item)  # a single payload gets the module error itself
            elif refusal := module_refusal(caller, item):
                problems.append(ItemError(index=index, error=refusal))
                continue
            items.append(item)
        accepted = 0
        drops: dict[str, int] = {}  # reason -> payloads dropped on purpose
        if items:
            kept: list[tuple[Item, Agent]] = []
            if reason := self._request_drop(privacy, client):
                drops[reason] = len(items)
            else:
                for item in items:
                    agent = agent_of(item, client)
                    if (reason := self._item_drop(privacy, item, agent)) is None:
                        kept.append((item, agent))
                    else:
                        drops[reason] = drops.get(reason, 0) + 1
            records = await self._records(kept, caller, client, privacy, now) if kept else []
            accepted = len(records)
            if drops:
                count_drops(drops)
                if BOT in drops:  # one bot hit per request, however many payloads it carried
                    records.append(Record(id=uuid.uuid4().bytes, type="bot", ts=to_micros(now)))
            if records:
                await self.buffer.append(project.project_id,
                                         encode_entry(Entry(project.project_id.bytes, records)))
        if not parsed.batch:
            return {"ok": True, "dropped": next(iter(drops))} if drops else {"ok": True}
        answer = {"ok": True, "accepted": accepted,
                  "errors": [{"index": p.index, "error": p.error} for p in sorted(problems, key=lambda p: p.index)]}
        if drops:
            answer["dropped"] = drops
        return answer

    @staticmethod
    def _request_drop(privacy: PrivacySettings, client: Client) -> str | None:
        """Why privacy rules drop everything a request carries, if they do."""
        if privacy.respect_dnt and client.do_not_track:
            return DNT
        if Ingestor._blocked_agent(privacy, client.user_agent):
            return BLOCKED_AGENT
        return None

    @staticmethod
    def _item_drop(privacy: PrivacySettings, item: Item, agent: Agent) -> str | None:
        """Why one payload is dropped, if it is: the first rule that applies, in DROP_REASONS order."""
        if Ingestor._blocked_agent(privacy, item.user_agent):  # one a server or app SDK forwarded
            return BLOCKED_AGENT
        if agent.is_bot and privacy.bot_filtering:
            return BOT
        if not consented(privacy, item):
            return CONSENT
        return None

    @staticmethod
    def _blocked_agent(privacy: PrivacySettings, user_agent: str | None) -> bool:
        """Whether a project blocks this agent: the request's header, or one an SDK forwarded."""
        return bool(user_agent and privacy.blocked_user_agents) and is_blocked(user_agent, privacy.blocked_user_agents)

    async def _records(self, items: list[tuple[Item, Agent]], caller: Caller, client: Client,
                       privacy: PrivacySettings, now: datetime) -> list[Record]:
        project = caller.project
        geo = self._geo(client.ip, privacy)
        anonymous_id = None
        records = []
        for item, agent in items:
            visitor_id = item.visitor_id
            if visitor_id is None:
                if anonymous_id is None:
                    try:
                        salt = await self.salts.today(now)
                    except (RedisError, OSError) as exc:
                        raise errors.RedisUnavailable() from exc
                    anonymous_id = visitor_hash(salt, project.project_id, client.ip, client.user_agent)
                visitor_id = anonymous_id
            utm = extract_utm(item.utm, item.url)
            referral = classify_referrer(item.referrer, own_domain=project.domain, utm_source=utm.source,
                                         utm_medium=utm.medium, click_ids=click_ids(item.url))
            records.append(Record(
                id=uuid.uuid4().bytes, type=item.type, ts=to_micros(item.ts), visitor_id=visitor_id,
                user_id=item.user_id, session=item.session_id, hostname=item.hostname, path=item.path,
                title=item.title, referrer=None if referral.is_internal else item.referrer,
                # A source is a referrer's domain (indexed in rollups): cut to fit rather than refused.
                source=clip(referral.source), channel=referral.channel,
                utm_source=utm.source, utm_medium=utm.medium, utm_campaign=utm.campaign,
                utm_content=utm.content, utm_term=utm.term,
                country=geo.country, region=geo.region, city=geo.city,
                browser=agent.browser, os=agent.os, device=agent.device_type,
                screen=item.screen, language=item.language, data=item.data))
        return records

    def _geo(self, ip: str, privacy: PrivacySettings) -> Geo:
        if not privacy.anonymize_ip:
            return self.locator.lookup(ip)
        # Anonymized: look up the truncated address, and keep no city.
        geo = self.locator.lookup(anonymize_ip(ip))
        return Geo(geo.country, geo.region, None)
