import pytest

from pulse.ingest.useragent import Agent, is_blocked, is_http_library, parse_user_agent

# Real user agents, as browsers and crawlers send them.
CASES = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        Agent("Chrome", "124", "Windows", "10", "Desktop", False),
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/109.0.0.0 Safari/537.36",
        Agent("Chrome", "109", "Windows", "7", "Desktop", False),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Safari/605.1.15",
        Agent("Safari", "17", "macOS", "10.15", "Desktop", False),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Mobile/15E148 Safari/604.1",
        Agent("Safari", "17", "iOS", "17", "Mobile", False),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
        Agent("Chrome", "124", "iOS", "17", "Mobile", False),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/16.6 Mobile/15E148 Safari/604.1",
        Agent("Safari", "16", "iPadOS", "16", "Tablet", False),
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        Agent("Chrome", "124", "Android", "10", "Mobile", False),
    ),
    (
        # Chrome's reduced UA on an Android tablet: same as a phone's, minus "Mobile".
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        Agent("Chrome", "124", "Android", "10", "Tablet", False),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        Agent("Chrome", "120", "Android", "13", "Tablet", False),
    ),
    (
        "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/124.2.1 like Chrome/124.0.6367.118 Safari/537.36",
        Agent("Silk", "124", "Android", "9", "Tablet", False),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        Agent("Firefox", "125", "Linux", None, "Desktop", False),
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
        Agent("Firefox", "115", "Linux", None, "Desktop", False),
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
        Agent("Firefox", "125", "Android", "14", "Mobile", False),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        Agent("Edge", "124", "Windows", "10", "Desktop", False),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
        Agent("Opera", "106", "Windows", "10", "Desktop", False),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        Agent("Samsung Internet", "24", "Android", "13", "Mobile", False),
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        Agent("Chrome", "124", "Chrome OS", None, "Desktop", False),
    ),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        Agent("Googlebot", "2", None, None, "Bot", True),
    ),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        Agent("Googlebot", "2", "Android", "6", "Bot", True),
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        Agent("bingbot", "2", None, None, "Bot", True),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.6099.28 Safari/537.36",
        Agent("HeadlessChrome", "120", "Linux", None, "Bot", True),
    ),
    (
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        Agent("PhantomJS", "2", "Linux", None, "Bot", True),
    ),
    ("curl/8.5.0", Agent("curl", "8", None, None, "Bot", True)),
    ("", Agent(None, None, None, None, "Bot", True)),
]


@pytest.mark.parametrize(("ua", "expected"), CASES)
def test_parses_real_user_agents(ua: str, expected: Agent) -> None:
    assert parse_user_agent(ua) == expected


@pytest.mark.parametrize(
    "ua",
    [
        "Wget/1.21.4",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "axios/1.6.8",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "   ",
    ],
)
def test_scripts_and_crawlers_are_bots(ua: str) -> None:
    agent = parse_user_agent(ua)
    assert agent.is_bot
    assert agent.device_type == "Bot"


@pytest.mark.parametrize("marker", ["Selenium", "Puppeteer", "Playwright", "WebDriver"])
def test_automation_markers_are_bots(marker: str) -> None:
    # Automation tools add these tokens when configured to; the UA is otherwise a normal Chrome's.
    ua = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/124.0.0.0 Safari/537.36 {marker}"
    )
    assert parse_user_agent(ua).is_bot


def test_repeated_user_agents_come_from_the_cache() -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
    first = parse_user_agent(ua)
    assert parse_user_agent(ua) is first


def test_very_long_user_agents_are_cut() -> None:
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0" + " x" * 10_000
    assert parse_user_agent(ua).browser == "Firefox"


def test_is_blocked_matches_substrings_ignoring_case() -> None:
    ua = "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
    assert is_blocked(ua, ("uptimerobot",))
    assert is_blocked(ua, ("nothing", "UPTIME"))
    assert not is_blocked(ua, ("pingdom",))
    assert not is_blocked(ua, ())
    assert not is_blocked("", ("uptime",))


def test_is_blocked_ignores_blank_patterns() -> None:
    assert not is_blocked("Mozilla/5.0", ("", "  "))


def test_crawler_matching_agrees_with_crawlerdetect() -> None:
    # Our RE2 matcher must answer exactly as crawlerdetect's own (slower) matcher does.
    from crawlerdetect import CrawlerDetect
    from crawlerdetect.providers.crawlers import data as crawler_patterns
    from crawlerdetect.providers.exclusions import data as browser_token_patterns

    from pulse.ingest.useragent import CrawlerMatcher

    ours = CrawlerMatcher(crawler_patterns, browser_token_patterns)
    reference = CrawlerDetect()
    user_agents = [ua for ua, _ in CASES if ua] + [
        "Mozilla/5.0 (Linux; Android 10; YandexSearch/22.51) AppleWebKit/537.36 Chrome/108.0 Mobile Safari/537.36",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Java/17.0.2",
        "Mozilla/5.0",
    ]
    for ua in user_agents:
        assert ours.is_crawler(ua) == reference.is_crawler(ua), ua


@pytest.mark.parametrize("ua", [
    "python-requests/2.31.0",
    "python-httpx/0.28.1",
    "axios/1.7.2",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "node",  # Node's own fetch
    "undici",
    "okhttp/4.12.0",
    "Go-http-client/2.0",
    "curl/8.5.0",
    "Java-http-client/21.0.2",
    "Dart/3.3 (dart:io)",
    "Acme/3.1 CFNetwork/1494.0.7 Darwin/23.4.0",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)",
    "pulse-analytics-node/1.0.0",
    "pulse-analytics-react-native/1.0.0",
])
def test_generic_http_libraries_and_pulses_sdks_are_libraries(ua: str) -> None:
    assert is_http_library(ua)


@pytest.mark.parametrize("ua", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Googlebot/2.1",
    "python-requests/2.31.0 (compatible; AcmeCrawler/1.0)",
    "curl/8.5.0 acme-spider",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 "
    "Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36 Chrome-Lighthouse",
    "node Puppeteer",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "",
])
def test_crawlers_headless_browsers_and_browsers_are_not_libraries(ua: str) -> None:
    assert not is_http_library(ua)


@pytest.mark.parametrize("ua", ["pulse-analytics-node/1.0.0", "node", "Java-http-client/21.0.2"])
def test_a_library_agent_alone_is_a_bot(ua: str) -> None:
    # Without a visitor id the service treats it as any script: a bot.
    assert parse_user_agent(ua).is_bot and parse_user_agent(ua).device_type == "Bot"


def test_app_http_stacks_parse_like_the_device_they_run_on() -> None:
    agent = parse_user_agent("Acme/3.1 CFNetwork/1494.0.7 Darwin/23.4.0")
    assert not agent.is_bot and agent.os == "iOS"
