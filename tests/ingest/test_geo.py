from pathlib import Path

import pytest

from pulse.ingest.geo import Geo, GeoLocator, anonymize_ip, public_address

# Each expectation was read from the RIR delegation data, and agrees in two independent
# builds of it (iptocc's and ip-to-country's): these blocks have been registered to the
# same country for decades.
BUNDLED_COUNTRIES = [
    ("8.8.8.8", "US"),  # Google Public DNS (ARIN)
    ("193.99.144.80", "DE"),  # heise.de (RIPE NCC)
    ("212.58.244.22", "GB"),  # BBC (RIPE NCC)
    ("200.160.2.3", "BR"),  # NIC.br (LACNIC)
    ("202.12.27.33", "JP"),  # m.root-servers.net, WIDE (APNIC)
    ("14.139.0.1", "IN"),  # ERNET India (APNIC)
    ("2001:4860:4860::8888", "US"),  # Google Public DNS over IPv6
    ("2001:200::1", "JP"),  # WIDE over IPv6
    ("2001:12ff::1", "BR"),  # NIC.br over IPv6
    ("::ffff:8.8.8.8", "US"),  # an IPv4 client seen on a dual-stack socket
]


@pytest.fixture(scope="module")
def locator() -> GeoLocator:
    return GeoLocator()


@pytest.mark.parametrize(("ip", "country"), BUNDLED_COUNTRIES)
def test_bundled_database_gives_the_country(locator: GeoLocator, ip: str, country: str) -> None:
    assert locator.lookup(ip) == Geo(country, None, None)


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.10.10",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "192.0.2.1",  # documentation
        "::1",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "",
        "not an ip",
        "999.1.1.1",
        "1.2.3",
    ],
)
def test_private_special_and_invalid_addresses_have_no_location(locator: GeoLocator, ip: str) -> None:
    assert locator.lookup(ip) == Geo(None, None, None)
    assert public_address(ip) is None


def test_lookups_are_cached(locator: GeoLocator) -> None:
    first = locator.lookup("9.9.9.9")
    hits = locator.lookup.cache_info().hits
    assert locator.lookup("9.9.9.9") is first
    assert locator.lookup.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    ("ip", "anonymized"),
    [
        ("203.0.113.77", "203.0.113.0"),
        (" 198.51.100.255 ", "198.51.100.0"),
        ("2001:db8:85a3:1234:5678:9abc:def0:1", "2001:db8:85a3::"),
        ("2001:db8::1", "2001:db8::"),
        ("::ffff:198.51.100.23", "198.51.100.0"),
        # 6to4 embeds the whole IPv4 address in bits 16-48: cut it at /40 like an IPv4 /24.
        ("2002:cb00:7107:1::1", "2002:cb00:7100::"),
    ],
)
def test_anonymize_ip(ip: str, anonymized: str) -> None:
    assert anonymize_ip(ip) == anonymized


@pytest.mark.parametrize("value", ["example.com", "", "testclient", "1.2.3.4.5"])
def test_anonymize_ip_of_what_is_not_an_address_is_empty(locator: GeoLocator, value: str) -> None:
    assert anonymize_ip(value) == ""
    assert locator.lookup(anonymize_ip(value)) == Geo(None, None, None)


@pytest.fixture(scope="module")
def city_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny database in the GeoLite2-City layout, written for these tests."""
    writer_module = pytest.importorskip(
        "mmdb_writer", reason="mmdb-writer is needed to build a test .mmdb (pip install mmdb-writer)"
    )
    from netaddr import IPSet

    writer = writer_module.MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City", languages=["en"], description="test"
    )
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
            "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
            "city": {"names": {"en": "London"}},
        },
    )
    writer.insert_network(IPSet(["2a02:ff0::/32"]), {"country": {"iso_code": "IT", "names": {"en": "Italy"}}})
    writer.insert_network(IPSet(["89.160.20.0/24"]), {"registered_country": {"iso_code": "SE"}})
    path = tmp_path_factory.mktemp("geo") / "city.mmdb"
    writer.to_db_file(str(path))
    return path


def test_mmdb_gives_country_region_and_city(city_database: Path) -> None:
    locator = GeoLocator(str(city_database))
    try:
        assert locator.lookup("81.2.69.160") == Geo("GB", "England", "London")
        assert locator.lookup("::ffff:81.2.69.160") == Geo("GB", "England", "London")
        assert locator.lookup("2a02:ff0::5") == Geo("IT", None, None)
        # Only the registered country is known: better than nothing.
        assert locator.lookup("89.160.20.1") == Geo("SE", None, None)
    finally:
        locator.close()


def test_mmdb_falls_back_to_the_bundled_countries(city_database: Path) -> None:
    locator = GeoLocator(str(city_database))
    try:
        assert locator.lookup("8.8.8.8") == Geo("US", None, None)
        assert locator.lookup("192.168.0.1") == Geo(None, None, None)
    finally:
        locator.close()


def test_missing_mmdb_file_fails_at_startup(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        GeoLocator(str(tmp_path / "absent.mmdb"))
