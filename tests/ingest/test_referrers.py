import pytest

from pulse.ingest.referrers import Referral, classify_referrer, referrer_host

SITE = "example.com"


def classify(referrer: str | None, **kwargs) -> Referral:
    return classify_referrer(referrer, own_domain=SITE, **kwargs)


def test_no_referrer_and_no_tags_is_direct() -> None:
    assert classify(None) == Referral(None, "Direct")
    assert classify("") == Referral(None, "Direct")


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.google.com/", "google.com"),
        ("https://www.google.co.uk/", "google.co.uk"),
        ("https://www.google.com.br/search?q=x", "google.com.br"),
        ("https://www.bing.com/search?q=pulse", "bing.com"),
        ("https://duckduckgo.com/", "duckduckgo.com"),
        ("https://search.yahoo.co.jp/search?p=x", "search.yahoo.co.jp"),
        ("https://yandex.ru/search/?text=x", "yandex.ru"),
        ("https://www.ecosia.org/search?q=x", "ecosia.org"),
        ("https://search.brave.com/search?q=x", "search.brave.com"),
        ("https://www.startpage.com/", "startpage.com"),
        ("https://search.naver.com/search.naver?query=x", "search.naver.com"),
        ("https://search.seznam.cz/?q=x", "search.seznam.cz"),
        ("https://www.qwant.com/?q=x", "qwant.com"),
        ("https://www.baidu.com/link?url=x", "baidu.com"),
    ],
)
def test_search_engines_are_organic_search(referrer: str, source: str) -> None:
    assert classify(referrer) == Referral(source, "Organic Search")


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://l.facebook.com/", "l.facebook.com"),
        ("https://m.facebook.com/", "m.facebook.com"),
        ("https://www.instagram.com/", "instagram.com"),
        ("https://t.co/abc", "t.co"),
        ("https://x.com/someone/status/1", "x.com"),
        ("https://www.linkedin.com/feed/", "linkedin.com"),
        ("https://lnkd.in/abc", "lnkd.in"),
        ("https://old.reddit.com/r/python/", "old.reddit.com"),
        ("https://www.youtube.com/watch?v=x", "youtube.com"),
        ("https://www.tiktok.com/", "tiktok.com"),
        ("https://www.pinterest.de/pin/1/", "pinterest.de"),
        ("https://www.threads.net/", "threads.net"),
        ("https://bsky.app/profile/x", "bsky.app"),
        ("https://news.ycombinator.com/item?id=1", "news.ycombinator.com"),
        ("https://www.quora.com/", "quora.com"),
        ("https://vk.com/", "vk.com"),
    ],
)
def test_social_networks_are_organic_social(referrer: str, source: str) -> None:
    assert classify(referrer) == Referral(source, "Organic Social")


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://chatgpt.com/", "chatgpt.com"),
        ("https://chat.openai.com/", "chat.openai.com"),
        ("https://www.perplexity.ai/search/x", "perplexity.ai"),
        ("https://claude.ai/", "claude.ai"),
        ("https://gemini.google.com/app", "gemini.google.com"),
        ("https://copilot.microsoft.com/", "copilot.microsoft.com"),
        ("https://poe.com/", "poe.com"),
        ("https://you.com/search?q=x", "you.com"),
        ("https://chat.deepseek.com/", "chat.deepseek.com"),
    ],
)
def test_ai_assistants_have_their_own_channel(referrer: str, source: str) -> None:
    assert classify(referrer) == Referral(source, "AI")


def test_chatgpt_utm_source_is_ai() -> None:
    # ChatGPT tags its outbound links with utm_source=chatgpt.com and sends no referrer.
    assert classify(None, utm_source="chatgpt.com") == Referral("chatgpt.com", "AI")


def test_other_sites_are_referrals() -> None:
    assert classify("https://github.com/acme/pulse") == Referral("github.com", "Referral")
    assert classify("https://docs.google.com/document/d/1") == Referral("docs.google.com", "Referral")
    assert classify("https://google.evil.example/") == Referral("google.evil.example", "Referral")


@pytest.mark.parametrize("medium", ["cpc", "ppc", "paid", "paidsearch", "cpm"])
def test_paid_medium_from_a_search_engine_is_paid_search(medium: str) -> None:
    assert classify(None, utm_source="google", utm_medium=medium) == Referral("google", "Paid Search")
    assert classify("https://www.bing.com/", utm_medium=medium) == Referral("bing.com", "Paid Search")


@pytest.mark.parametrize("medium", ["cpc", "paid_social", "paidsocial", "paid"])
def test_paid_medium_from_a_social_network_is_paid_social(medium: str) -> None:
    assert classify(None, utm_source="facebook", utm_medium=medium).channel == "Paid Social"
    assert classify("https://l.instagram.com/", utm_source="ig", utm_medium=medium).channel == "Paid Social"


def test_paid_medium_from_an_unknown_source_is_paid_other() -> None:
    assert classify(None, utm_source="partner-site", utm_medium="cpc") == Referral("partner-site", "Paid Other")


@pytest.mark.parametrize("medium", ["display", "banner", "cpm", "interstitial"])
def test_display(medium: str) -> None:
    assert classify(None, utm_source="adnetwork", utm_medium=medium).channel == "Display"


@pytest.mark.parametrize("medium", ["email", "e-mail", "newsletter"])
def test_email_medium(medium: str) -> None:
    assert classify(None, utm_source="weekly", utm_medium=medium) == Referral("weekly", "Email")


def test_webmail_referrers_are_email() -> None:
    assert classify("https://mail.google.com/") == Referral("mail.google.com", "Email")
    assert classify("https://outlook.live.com/mail/0/") == Referral("outlook.live.com", "Email")


def test_affiliates() -> None:
    assert classify("https://coupons.example.org/", utm_medium="affiliate").channel == "Affiliates"


def test_organic_and_social_mediums_for_unknown_sources() -> None:
    assert classify(None, utm_source="someengine", utm_medium="organic").channel == "Organic Search"
    assert classify(None, utm_source="somenetwork", utm_medium="social").channel == "Organic Social"


def test_tagged_source_without_medium_is_a_referral() -> None:
    assert classify(None, utm_source="podcast") == Referral("podcast", "Referral")


@pytest.mark.parametrize(("click_id", "source"), [("gclid", "google.com"), ("msclkid", "bing.com")])
def test_search_ad_click_ids_are_paid_search(click_id: str, source: str) -> None:
    assert classify(None, click_ids=frozenset({click_id})) == Referral(source, "Paid Search")
    assert classify("https://www.google.de/", click_ids=frozenset({click_id})) == Referral("google.de", "Paid Search")


@pytest.mark.parametrize(("click_id", "source"), [("ttclid", "tiktok.com"), ("li_fat_id", "linkedin.com")])
def test_social_ad_click_ids_are_paid_social(click_id: str, source: str) -> None:
    assert classify(None, click_ids=frozenset({click_id})) == Referral(source, "Paid Social")


def test_fbclid_alone_is_organic_social() -> None:
    # Facebook appends fbclid to every outbound link, so it says where, not that it was paid.
    assert classify(None, click_ids=frozenset({"fbclid"})) == Referral("facebook.com", "Organic Social")
    assert classify("https://l.facebook.com/", click_ids=frozenset({"fbclid"})).channel == "Organic Social"
    assert classify(None, utm_source="fb", utm_medium="paid", click_ids=frozenset({"fbclid"})).channel == "Paid Social"


def test_explicit_tags_win_over_click_ids() -> None:
    tagged = classify(None, utm_source="newsletter", utm_medium="email", click_ids=frozenset({"gclid"}))
    assert tagged.channel == "Email"


@pytest.mark.parametrize(
    "referrer",
    [
        "https://example.com/pricing",
        "https://www.example.com/",
        "http://EXAMPLE.com:8080/x",
        "https://blog.example.com/post",
        "https://a.b.example.com/",
    ],
)
def test_self_referrals_are_internal(referrer: str) -> None:
    internal = Referral(None, "Internal", is_internal=True)
    assert classify(referrer) == internal
    # They never start a new attribution, even when the internal link carries tags.
    assert classify(referrer, utm_source="google", utm_medium="cpc", click_ids=frozenset({"gclid"})) == internal


@pytest.mark.parametrize("own_domain", ["www.example.com", "Example.com", "https://example.com/", "example.com."])
def test_own_domain_is_normalized(own_domain: str) -> None:
    assert classify_referrer("https://www.example.com/a", own_domain=own_domain).is_internal


def test_lookalike_domains_are_not_internal() -> None:
    assert classify("https://notexample.com/") == Referral("notexample.com", "Referral")
    assert classify("https://example.com.evil.net/") == Referral("example.com.evil.net", "Referral")


def test_without_an_own_domain_nothing_is_internal() -> None:
    assert classify_referrer("https://example.com/", own_domain=None) == Referral("example.com", "Referral")


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("android-app://com.google.android.googlequicksearchbox/", Referral("google.com", "Organic Search")),
        ("android-app://com.google.android.gm/", Referral("mail.google.com", "Email")),
        ("android-app://com.linkedin.android/", Referral("linkedin.com", "Organic Social")),
        ("android-app://com.example.newsreader/", Referral("com.example.newsreader", "Referral")),
    ],
)
def test_android_app_referrers(referrer: str, expected: Referral) -> None:
    assert classify(referrer) == expected


@pytest.mark.parametrize(
    "referrer",
    [
        "not a url",
        "about:blank",
        "javascript:alert(1)",
        "data:text/html,hi",
        "http://",
        "https:///path",
        "http://[::1",
        "ftp://example.org/",
        "https://exa mple.com/",
        "//example.org/",
    ],
)
def test_malformed_referrers_are_direct(referrer: str) -> None:
    assert referrer_host(referrer) is None
    assert classify(referrer) == Referral(None, "Direct")
