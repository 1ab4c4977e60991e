"""IP geolocation: country out of the box, region and city from an optional MaxMind-format database.

The bundled country data comes from `iptocc`, which embeds the five Regional Internet
Registries' delegation files (refreshed with each release). It names the country a block
is registered to, which matches where it is used for the vast majority of addresses. A
GeoLite2 or DB-IP .mmdb file, when configured, is more precise and adds region and city.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import iptocc
import maxminddb

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Geo:
    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None  # first-level subdivision, English name
    city: str | None = None


NOWHERE = Geo()


class GeoLocator:
    """Looks up where an IP address is. One per process: the database is opened once."""

    def __init__(self, mmdb_path: str | None = None, *, cache_size: int = 65_536) -> None:
        self._reader = maxminddb.open_database(mmdb_path) if mmdb_path else None
        # Per instance, so two locators with different databases never share answers.
        self.lookup = lru_cache(maxsize=cache_size)(self._lookup)

    def _lookup(self, ip: str) -> Geo:
        address = public_address(ip)
        if address is None:
            return NOWHERE
        if self._reader is not None:
            found = _from_mmdb(self._reader.get(address))
            if found.country:
                return found
        return Geo(country=iptocc.country_code(str(address)))

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


def public_address(ip: str) -> IPAddress | None:
    """The address if it is a valid, globally routable one, else None."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except (ValueError, AttributeError):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        # Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d.
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return None
    return address


def _from_mmdb(record: Any) -> Geo:
    if not isinstance(record, dict):
        return NOWHERE
    country = record.get("country") or record.get("registered_country") or {}
    subdivisions = record.get("subdivisions") or [{}]
    return Geo(
        country=country.get("iso_code"),
        region=_english_name(subdivisions[0]),
        city=_english_name(record.get("city")),
    )


def _english_name(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    return (entry.get("names") or {}).get("en")


# Keep the network, drop the host: an IPv4 /24 and an IPv6 /48 cover a household or more.
IPV4_KEPT = ((1 << 24) - 1) << 8
IPV6_KEPT = ((1 << 48) - 1) << 80
# A 6to4 address (2002::/16) carries its host's IPv4 address in bits 16-48: keep 16 + 24.
SIXTOFOUR_KEPT = ((1 << 40) - 1) << 88


@lru_cache(maxsize=16_384)
def anonymize_ip(ip: str) -> str:
    """Drop the part of an address that identifies a household: an IPv4 /24, an IPv6 /48.

    A string that is not an IP address gives "", which lookup() places nowhere, so
    `lookup(anonymize_ip(ip))` is safe for whatever a client or proxy sent.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except (ValueError, AttributeError):
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(ipaddress.IPv4Address(int(address) & IPV4_KEPT))
    kept = SIXTOFOUR_KEPT if address.sixtofour else IPV6_KEPT
    return str(ipaddress.IPv6Address(int(address) & kept))
