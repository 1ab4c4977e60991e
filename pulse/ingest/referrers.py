"""Referrer attribution: which source and channel brought a visit, in the spirit of GA4's default channels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

DIRECT = "Direct"
INTERNAL = "Internal"
ORGANIC_SEARCH = "Organic Search"
PAID_SEARCH = "Paid Search"
ORGANIC_SOCIAL = "Organic Social"
PAID_SOCIAL = "Paid Social"
PAID_OTHER = "Paid Other"
EMAIL = "Email"
DISPLAY = "Display"
AFFILIATES = "Affiliates"
AI = "AI"
REFERRAL = "Referral"

# Kinds of source. A domain maps to the channel its unpaid traffic belongs to.
SEARCH, SOCIAL, AI_ASSISTANT, WEBMAIL, PLAIN = "search", "social", "ai", "webmail", "plain"

# Matched against the referrer host and its parent domains, most specific first, so
# gemini.google.com is an AI assistant while other google.com hosts are search.
SOURCE_DOMAINS: dict[str, str] = {
    # AI assistants
    "chatgpt.com": AI_ASSISTANT,
    "chat.openai.com": AI_ASSISTANT,
    "perplexity.ai": AI_ASSISTANT,
    "claude.ai": AI_ASSISTANT,
    "gemini.google.com": AI_ASSISTANT,
    "bard.google.com": AI_ASSISTANT,
    "copilot.microsoft.com": AI_ASSISTANT,
    "edgeservices.bing.com": AI_ASSISTANT,  # Copilot in Edge's sidebar
    "poe.com": AI_ASSISTANT,
    "you.com": AI_ASSISTANT,
    "deepseek.com": AI_ASSISTANT,
    "chat.mistral.ai": AI_ASSISTANT,
    "meta.ai": AI_ASSISTANT,
    "grok.com": AI_ASSISTANT,
    "phind.com": AI_ASSISTANT,
    "chat.qwen.ai": AI_ASSISTANT,
    "kimi.com": AI_ASSISTANT,
    # Search engines (google, yahoo, yandex... are matched by brand below, whatever their TLD)
    "bing.com": SEARCH,
    "duckduckgo.com": SEARCH,
    "baidu.com": SEARCH,
    "ecosia.org": SEARCH,
    "search.brave.com": SEARCH,
    "startpage.com": SEARCH,
    "naver.com": SEARCH,
    "seznam.cz": SEARCH,
    "qwant.com": SEARCH,
    "ask.com": SEARCH,
    "search.aol.com": SEARCH,
    "kagi.com": SEARCH,
    "sogou.com": SEARCH,
    "so.com": SEARCH,
    "daum.net": SEARCH,
    "mojeek.com": SEARCH,
    "metager.org": SEARCH,
    "swisscows.com": SEARCH,
    "ya.ru": SEARCH,
    # Social networks and communities
    "facebook.com": SOCIAL,
    "fb.com": SOCIAL,
    "fb.me": SOCIAL,
    "instagram.com": SOCIAL,
    "t.co": SOCIAL,
    "twitter.com": SOCIAL,
    "x.com": SOCIAL,
    "linkedin.com": SOCIAL,
    "lnkd.in": SOCIAL,
    "reddit.com": SOCIAL,
    "redd.it": SOCIAL,
    "youtube.com": SOCIAL,
    "youtu.be": SOCIAL,
    "tiktok.com": SOCIAL,
    "pinterest.com": SOCIAL,
    "pin.it": SOCIAL,
    "threads.net": SOCIAL,
    "threads.com": SOCIAL,
    "bsky.app": SOCIAL,
    "news.ycombinator.com": SOCIAL,
    "quora.com": SOCIAL,
    "vk.com": SOCIAL,
    "ok.ru": SOCIAL,
    "weibo.com": SOCIAL,
    "snapchat.com": SOCIAL,
    "tumblr.com": SOCIAL,
    "medium.com": SOCIAL,
    "discord.com": SOCIAL,
    "t.me": SOCIAL,
    "whatsapp.com": SOCIAL,
    "wa.me": SOCIAL,
    "line.me": SOCIAL,
    "xing.com": SOCIAL,
    "mastodon.social": SOCIAL,
    "producthunt.com": SOCIAL,
    "lobste.rs": SOCIAL,
    # Webmail: a click in a mail client's web page
    "mail.google.com": WEBMAIL,
    "outlook.live.com": WEBMAIL,
    "outlook.office.com": WEBMAIL,
    "outlook.office365.com": WEBMAIL,
    "mail.yahoo.com": WEBMAIL,
    "mail.proton.me": WEBMAIL,
    "mail.aol.com": WEBMAIL,
    "e.mail.ru": WEBMAIL,
    "mail.yandex.ru": WEBMAIL,
    # Google properties that are neither search nor social
    "docs.google.com": PLAIN,
    "drive.google.com": PLAIN,
    "sites.google.com": PLAIN,
    "groups.google.com": PLAIN,
    "play.google.com": PLAIN,
    "classroom.google.com": PLAIN,
}

# Brands present under many country domains (google.co.uk, yahoo.co.jp, yandex.com.tr,
# pinterest.de): a host matches when the brand label is followed only by short,
# TLD-like labels.
SOURCE_BRANDS: dict[str, str] = {
    "google": SEARCH,
    "yahoo": SEARCH,
    "yandex": SEARCH,
    "pinterest": SOCIAL,
}

# utm_source values that name a site without its domain ("google", "fb", "chatgpt").
SOURCE_NAMES: dict[str, str] = {
    "google": SEARCH,
    "bing": SEARCH,
    "yahoo": SEARCH,
    "yandex": SEARCH,
    "baidu": SEARCH,
    "duckduckgo": SEARCH,
    "ecosia": SEARCH,
    "qwant": SEARCH,
    "naver": SEARCH,
    "seznam": SEARCH,
    "startpage": SEARCH,
    "facebook": SOCIAL,
    "fb": SOCIAL,
    "instagram": SOCIAL,
    "ig": SOCIAL,
    "twitter": SOCIAL,
    "linkedin": SOCIAL,
    "reddit": SOCIAL,
    "youtube": SOCIAL,
    "tiktok": SOCIAL,
    "pinterest": SOCIAL,
    "threads": SOCIAL,
    "bluesky": SOCIAL,
    "mastodon": SOCIAL,
    "hackernews": SOCIAL,
    "quora": SOCIAL,
    "vk": SOCIAL,
    "chatgpt": AI_ASSISTANT,
    "openai": AI_ASSISTANT,
    "perplexity": AI_ASSISTANT,
    "claude": AI_ASSISTANT,
    "gemini": AI_ASSISTANT,
    "copilot": AI_ASSISTANT,
    "deepseek": AI_ASSISTANT,
}

# Android sends android-app://<package>/ as the referrer of a link opened from an app.
ANDROID_APPS: dict[str, str] = {
    "com.google.android.googlequicksearchbox": "google.com",
    "com.google.android.gm": "mail.google.com",
    "com.facebook.katana": "facebook.com",
    "com.facebook.orca": "facebook.com",
    "com.instagram.android": "instagram.com",
    "com.twitter.android": "x.com",
    "com.linkedin.android": "linkedin.com",
    "com.reddit.frontpage": "reddit.com",
    "com.pinterest": "pinterest.com",
    "com.zhiliaoapp.musically": "tiktok.com",
    "com.google.android.youtube": "youtube.com",
    "org.telegram.messenger": "t.me",
    "com.whatsapp": "whatsapp.com",
    "com.openai.chatgpt": "chatgpt.com",
    "ai.perplexity.app.android": "perplexity.ai",
    "com.microsoft.office.outlook": "outlook.live.com",
}

# Which platform's ad click a click ID comes from, and the source to name when the
# browser sent no referrer (in-app browsers often don't). fbclid is absent on purpose:
# Facebook adds it to every outbound link, paid or not.
SEARCH_AD_CLICK_IDS = {"gclid": "google.com", "gbraid": "google.com", "wbraid": "google.com", "msclkid": "bing.com"}
SOCIAL_AD_CLICK_IDS = {"ttclid": "tiktok.com", "twclid": "x.com", "li_fat_id": "linkedin.com"}
ORGANIC_CLICK_IDS = {"fbclid": "facebook.com"}

# utm_medium values, as GA4's default channel group reads them.
PAID_MEDIUM = re.compile(r"^(?:cp[a-z]|ppc|retargeting|paid.*|.*[-_ ]paid)$")
DISPLAY_MEDIUMS = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
EMAIL_NAMES = frozenset({"email", "e-mail", "e_mail", "e mail", "newsletter", "mail"})
AFFILIATE_MEDIUMS = frozenset({"affiliate", "affiliates"})
SOCIAL_MEDIUMS = frozenset({"social", "social-network", "social-media", "sm", "social network", "social media"})
SEARCH_MEDIUMS = frozenset({"organic"})

SHORT_LABEL = 3  # "co", "com", "uk", "de": what follows a brand in google.co.uk


@dataclass(frozen=True, slots=True)
class Referral:
    source: str | None
    channel: str
    # A navigation within the project's own site: keep the visit's current attribution.
    is_internal: bool = False


INTERNAL_REFERRAL = Referral(source=None, channel=INTERNAL, is_internal=True)


def classify_referrer(
    referrer: str | None,
    *,
    own_domain: str | None,
    utm_source: str | None = None,
    utm_medium: str | None = None,
    click_ids: frozenset[str] = frozenset(),
) -> Referral:
    """Attribute a pageview to a source and channel.

    `utm_source`/`utm_medium` are the normalized tags from campaigns.extract_utm and
    `click_ids` the ad click IDs of the landing URL (campaigns.click_ids). The source is
    the utm_source when tagged, otherwise the referrer's domain without "www.".
    """
    # Cached by host rather than by full URL: far fewer distinct keys, far more hits.
    return _classify(referrer_host(referrer), _site_domain(own_domain), utm_source, utm_medium, frozenset(click_ids))


@lru_cache(maxsize=16_384)
def _classify(
    host: str | None, own: str | None, utm_source: str | None, utm_medium: str | None, click_ids: frozenset[str]
) -> Referral:
    if host and own and (host == own or host.endswith("." + own)):
        return INTERNAL_REFERRAL

    medium = utm_medium or ""
    kind = (_source_kind(utm_source) if utm_source else None) or (_source_kind(host) if host else None)
    source = utm_source or host

    # Explicit tags first, then ad click IDs, then what the source is known to be.
    paid = PAID_MEDIUM.match(medium) is not None
    if paid and (kind == SEARCH or "search" in medium):
        return Referral(source, PAID_SEARCH)
    if paid and (kind == SOCIAL or "social" in medium):
        return Referral(source, PAID_SOCIAL)
    if medium in DISPLAY_MEDIUMS:
        return Referral(source, DISPLAY)
    if paid:
        return Referral(source, PAID_OTHER)
    if medium in EMAIL_NAMES or utm_source in EMAIL_NAMES or kind == WEBMAIL:
        return Referral(source, EMAIL)
    if medium in AFFILIATE_MEDIUMS:
        return Referral(source, AFFILIATES)

    for click_id, ad_source in SEARCH_AD_CLICK_IDS.items():
        if click_id in click_ids:
            return Referral(source or ad_source, PAID_SEARCH)
    for click_id, ad_source in SOCIAL_AD_CLICK_IDS.items():
        if click_id in click_ids:
            return Referral(source or ad_source, PAID_SOCIAL)

    if kind == AI_ASSISTANT:
        return Referral(source, AI)
    if kind == SEARCH or medium in SEARCH_MEDIUMS:
        return Referral(source, ORGANIC_SEARCH)
    if kind == SOCIAL or medium in SOCIAL_MEDIUMS:
        return Referral(source, ORGANIC_SOCIAL)
    for click_id, organic_source in ORGANIC_CLICK_IDS.items():
        if click_id in click_ids:
            return Referral(source or organic_source, ORGANIC_SOCIAL)
    if source or medium:
        return Referral(source, REFERRAL)
    return Referral(None, DIRECT)


@lru_cache(maxsize=4_096)
def referrer_host(referrer: str | None) -> str | None:
    """The referring site's host, lowercased and without "www.", or None when there is none to name."""
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer.strip())
    except ValueError:
        return None
    if parts.scheme == "android-app":
        package = parts.netloc.lower()
        return ANDROID_APPS.get(package, package) or None
    if parts.scheme not in ("http", "https"):
        return None
    try:
        host = parts.hostname
    except ValueError:
        return None
    return _bare_host(host) if host else None


@lru_cache(maxsize=1_024)
def _site_domain(own_domain: str | None) -> str | None:
    """A project's domain as configured ("www.Example.com", "https://example.com/") -> "example.com"."""
    if not own_domain:
        return None
    value = own_domain.strip()
    host = referrer_host(value if "://" in value else f"https://{value}")
    return host


@lru_cache(maxsize=16_384)
def _source_kind(source: str) -> str | None:
    """What kind of site a referrer host or utm_source is: search, social, ai, webmail, plain or unknown."""
    source = source.lower().strip(".")
    if "." not in source:
        return SOURCE_NAMES.get(source)
    labels = source.split(".")
    for start in range(len(labels)):
        kind = SOURCE_DOMAINS.get(".".join(labels[start:]))
        if kind:
            return kind
    for index, label in enumerate(labels):
        kind = SOURCE_BRANDS.get(label)
        if kind and all(len(rest) <= SHORT_LABEL for rest in labels[index + 1 :]):
            return kind
    return None


def _bare_host(host: str) -> str | None:
    host = host.strip(".")
    if host.startswith("www."):
        host = host[4:]
    # A host never contains these; a referrer that yields one is not a URL we can name.
    if not host or any(char in host for char in " /\\@"):
        return None
    return host
