from pulse.ingest.campaigns import MAX_UTM_LENGTH, Utm, click_ids, extract_utm


def test_reads_utm_tags_from_the_page_url() -> None:
    url = (
        "https://example.com/pricing?utm_source=Newsletter&utm_medium=EMAIL"
        "&utm_campaign=Spring%20Sale&utm_content=Header+Link&utm_term=analytics"
    )
    assert extract_utm({}, url) == Utm("newsletter", "email", "Spring Sale", "Header Link", "analytics")


def test_payload_values_win_field_by_field() -> None:
    url = "https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=from-url"
    utm = extract_utm({"source": "Bing", "campaign": None, "term": "  "}, url)
    assert utm == Utm("bing", "cpc", "from-url", None, None)


def test_payload_keys_may_carry_the_utm_prefix() -> None:
    assert extract_utm({"utm_source": "Twitter"}, None) == Utm(source="twitter")


def test_trims_caps_and_drops_empty_values() -> None:
    long_value = "x" * 500
    utm = extract_utm({"campaign": f"  {long_value}  ", "content": "   "}, "https://example.com/?utm_term=&utm_medium=")
    assert utm.campaign == "x" * MAX_UTM_LENGTH
    assert utm.content is None
    assert utm.term is None
    assert utm.medium is None


def test_no_tags_anywhere() -> None:
    assert extract_utm({}, "https://example.com/") == Utm()
    assert extract_utm(None, None) == Utm()


def test_parameter_names_ignore_case_and_the_first_value_counts() -> None:
    url = "https://example.com/?UTM_Source=Reddit&utm_source=ignored"
    assert extract_utm({}, url).source == "reddit"


def test_malformed_urls_give_no_tags() -> None:
    assert extract_utm({}, "http://[::1/?utm_source=x") == Utm()
    assert click_ids("http://[::1/?gclid=x") == frozenset()


def test_click_ids() -> None:
    url = "https://example.com/landing?gclid=Cj0KCQ&fbclid=IwAR2&utm_source=google&msclkid="
    assert click_ids(url) == frozenset({"gclid", "fbclid"})
    assert click_ids("https://example.com/?ttclid=a&li_fat_id=b&twclid=c") == {"ttclid", "li_fat_id", "twclid"}
    assert click_ids("https://example.com/") == frozenset()
    assert click_ids(None) == frozenset()
