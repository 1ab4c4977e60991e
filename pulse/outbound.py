"""The one HTTP client for every request to an address a user supplies (webhooks, and later alert
channels, destinations and BI connections).

A user-supplied URL must not reach the server's own network: loopback, private ranges, link-local
(cloud metadata at 169.254.169.254), CGNAT, multicast, reserved and unspecified addresses, and
IPv6 forms embedding them. Checking the URL when it is saved is not enough: a name can resolve
elsewhere later (DNS rebinding), and a public server can redirect to a private one. So the check
happens where the socket is opened: `Guard`, the httpcore network backend of the transport,
resolves the host itself, refuses the connection if any address is not global, and connects to
the checked address. TLS still verifies the name (SNI and certificate use the URL's host), and
every redirect opens its connection through the same backend.

`check_target()` gives the same answer early, when a URL is saved, as a 400. With
PULSE_ALLOW_PRIVATE_TARGETS=1 nothing is resolved or refused (a private deployment whose
receivers live on its own network). Operator-set URLs (EMAIL_REPORT_WEBHOOK_URL) are trusted:
`send(..., trusted=True)` skips the guard.

Every request is bounded: connect timeout, total timeout, redirects, and bytes of the response
body read (the rest is dropped unread).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

from pulse import errors
from pulse.config import Settings

CONNECT_TIMEOUT = 3.0  # seconds, resolution included
TOTAL_TIMEOUT = 10.0  # seconds, the whole exchange with its redirects
MAX_BODY_BYTES = 65_536  # of a response body; the rest is not read
MAX_REDIRECTS = 3
USER_AGENT = "Pulse-Webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: `(host, port)` to the addresses it names; injectable so tests can map a "public" name anywhere.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """A request that could not be made or completed; the message says why (safe to show)."""


class RefusedTarget(OutboundError):
    """The target is, or resolves to, an address user-supplied requests may not reach."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (IPv4 and IPv6)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    """Whether a user-supplied request may reach `address`: globally routable unicast only.

    `is_global` already excludes private, loopback, link-local, unspecified, reserved,
    documentation and shared (CGNAT) ranges; multicast is not unicast. IPv6 forms carrying an
    IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by that address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not address.is_multicast and address not in _CGNAT


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _refusal(host: str, address: IPAddress) -> str:
    shown = host if _literal(host) is not None else f"{host} ({address})"
    return f"{shown} is a private, local or reserved address"


async def public_addresses(host: str, port: int, resolver: Resolver) -> list[str]:
    """The addresses to connect to for `host`, all of them public; RefusedTarget if any is not.

    Every resolved address must pass: a name with one public and one private address could
    otherwise be steered to the private one."""
    literal = _literal(host)
    if literal is not None:
        if not is_public(literal):
            raise RefusedTarget(_refusal(host, literal))
        return [str(literal)]
    try:
        resolved = await resolver(host, port)
    except OSError as exc:
        raise OutboundError(f"{host} could not be resolved ({exc.strerror or exc})") from None
    if not resolved:
        raise OutboundError(f"{host} could not be resolved")
    for text in resolved:
        address = _literal(text)
        if address is None or not is_public(address):
            raise RefusedTarget(_refusal(host, address or text))
    return resolved


class Guard(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to public addresses, which it resolves
    itself, one after another until one answers. `network` opens the actual sockets."""

    def __init__(self, *, resolver: Resolver = system_resolver,
                 network: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.resolver = resolver
        self.network = network or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                addresses = await public_addresses(host, port, self.resolver)
        except TimeoutError:
            raise OutboundError(f"{host} could not be resolved in time") from None
        failure: Exception | None = None
        for address in addresses:
            left = None if timeout is None else max(0.001, timeout - (time.monotonic() - started))
            try:
                return await self.network.connect_tcp(address, port, timeout=left, local_address=local_address,
                                                      socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise RefusedTarget("Unix sockets are not a target")

    async def sleep(self, seconds: float) -> None:
        await self.network.sleep(seconds)


class _Transport(httpx.AsyncHTTPTransport):
    """httpx's transport over a given httpcore network backend (`Guard`, or plain sockets for
    trusted URLs). httpx does not take a backend itself, so its pool is rebuilt with one."""

    def __init__(self, network: httpcore.AsyncNetworkBackend) -> None:
        super().__init__(trust_env=False, retries=0)  # no proxy from the environment: it would bypass the guard
        pool = self._pool
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=pool._ssl_context, max_connections=pool._max_connections,
            max_keepalive_connections=pool._max_keepalive_connections,
            keepalive_expiry=pool._keepalive_expiry, http1=True, http2=False, retries=0,
            network_backend=network)


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes  # at most `max_body` bytes of it
    truncated: bool
    elapsed_ms: int
    url: str  # the final URL, after redirects


class Outbound:
    """Send requests to user-supplied URLs. One per process or per job; `aclose()` when done
    (or use it as an async context manager)."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver = system_resolver,
                 network: httpcore.AsyncNetworkBackend | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, total_timeout: float = TOTAL_TIMEOUT,
                 max_body: int = MAX_BODY_BYTES, max_redirects: int = MAX_REDIRECTS) -> None:
        self.allow_private = allow_private
        self.total_timeout = total_timeout
        self.max_body = max_body
        options = {"timeout": httpx.Timeout(total_timeout, connect=connect_timeout), "follow_redirects": True,
                   "max_redirects": max_redirects, "trust_env": False, "headers": {"User-Agent": USER_AGENT}}
        network = network or httpcore.AnyIOBackend()
        self._trusted = httpx.AsyncClient(transport=_Transport(network), **options)
        self._guarded = self._trusted if allow_private else httpx.AsyncClient(
            transport=_Transport(Guard(resolver=resolver, network=network)), **options)

    @classmethod
    def from_settings(cls, settings: Settings, **options: typing.Any) -> Outbound:
        """The client the settings call for (PULSE_ALLOW_PRIVATE_TARGETS)."""
        return cls(allow_private=settings.allow_private_targets, **options)

    async def __aenter__(self) -> Outbound:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._trusted.aclose()
        if self._guarded is not self._trusted:
            await self._guarded.aclose()

    async def send(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                   content: bytes | None = None, trusted: bool = False) -> Reply:
        """Make the request; OutboundError (RefusedTarget for a forbidden address) if it fails.
        `trusted` is for URLs the operator configured, never for ones a user gave."""
        client = self._trusted if trusted else self._guarded
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout):
                request = client.build_request(method, url, headers=headers, content=content)
                if request.url.scheme not in ("http", "https"):
                    raise OutboundError("only http and https URLs can be called")
                response = await client.send(request, stream=True)
                try:
                    body, truncated = await self._read(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise OutboundError(f"no answer within {self.total_timeout:g} seconds") from None
        except httpx.TooManyRedirects:
            raise OutboundError("too many redirects") from None
        except httpx.TimeoutException:
            raise OutboundError("the request timed out") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise OutboundError(f"invalid URL ({exc})") from None
        except httpx.HTTPError as exc:
            raise OutboundError(f"the request failed ({type(exc).__name__}{': ' if str(exc) else ''}{exc})") from None
        return Reply(response.status_code, response.headers, body, truncated,
                     round((time.monotonic() - started) * 1000), str(response.url))

    async def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        chunks, size = [], 0
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_body:
                return b"".join(chunks)[:self.max_body], True
        return b"".join(chunks), False


async def check_target(url: str, *, allow_private: bool, field: str = "url",
                       resolver: Resolver = system_resolver) -> str:
    """Refuse (400) a URL a user wants saved that is not http(s), or whose host is or resolves
    to an address `Guard` would refuse. A name that does not resolve is accepted: it fails at
    delivery, where the check is made again anyway."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise errors.BadRequest(f"Invalid request body: '{field}' is not a valid URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise errors.BadRequest(f"Invalid request body: '{field}' must be an http or https URL.")
    if allow_private:
        return url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await public_addresses(parsed.host, port, resolver)
    except RefusedTarget as refused:
        raise errors.BadRequest(f"Invalid request body: '{field}' must not point to a private or local "
                                f"network: {refused}.") from None
    except (OutboundError, TimeoutError):
        pass  # does not resolve (now): refused or not at delivery
    return url
