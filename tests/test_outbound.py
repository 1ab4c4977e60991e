"""The outbound client: private targets refused after resolution and on redirects, bounded reads,
and the creation-time check."""

from __future__ import annotations

import asyncio
import ipaddress

import httpcore
import pytest

from pulse import errors
from pulse.outbound import Outbound, OutboundError, RefusedTarget, check_target, is_public
from tests.helpers import local_server


def fake_dns(names: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise OSError(-2, "Name or service not known")
        return names[host]
    return resolve


class ToLoopback(httpcore.AnyIOBackend):
    """Sockets to 127.0.0.1 whatever (public) address the guard chose: a stand-in for the internet."""

    def __init__(self) -> None:
        self.dialed: list[str] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.dialed.append(host)
        return await super().connect_tcp("127.0.0.1", port, timeout=timeout)


PUBLIC_IP = "93.184.215.14"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.251", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a9fe:a9fe"])
def test_non_global_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", PUBLIC_IP, "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_unicast_addresses_are_public(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:8080/", "http://localhost/", "https://[::ffff:192.168.0.1]/"])
async def test_private_targets_are_refused_before_any_connection(url):
    network = ToLoopback()
    async with Outbound(network=network) as client:
        with pytest.raises(RefusedTarget, match="private, local or reserved address"):
            await client.send("POST", url, content=b"{}")
    assert network.dialed == []


async def test_a_name_resolving_to_any_private_address_is_refused():
    dns = fake_dns({"mixed.example": [PUBLIC_IP, "10.1.2.3"]})
    async with Outbound(resolver=dns, network=ToLoopback()) as client:
        with pytest.raises(RefusedTarget, match=r"^mixed.example \(10.1.2.3\) is a private"):
            await client.send("GET", "http://mixed.example/")


async def test_a_local_server_is_reached_only_when_private_targets_are_allowed():
    async with local_server() as server:
        async with Outbound() as client:
            with pytest.raises(RefusedTarget):
                await client.send("POST", f"{server.url}/hook", content=b"x")
        assert server.requests == []
        async with Outbound(allow_private=True) as client:
            reply = await client.send("POST", f"{server.url}/hook", content=b"hello",
                                      headers={"Content-Type": "text/plain"})
    assert (reply.status_code, reply.body, reply.truncated) == (200, b"ok", False)
    assert [(r.method, r.path, r.body) for r in server.requests] == [("POST", "/hook", b"hello")]


async def test_trusted_urls_skip_the_guard():
    async with local_server() as server, Outbound() as client:
        reply = await client.send("GET", f"{server.url}/", trusted=True)
    assert reply.status_code == 200


async def test_a_public_name_is_dialed_at_the_checked_address_with_its_host_header():
    network = ToLoopback()
    async with local_server() as server:
        dns = fake_dns({"hooks.example": [PUBLIC_IP]})
        async with Outbound(resolver=dns, network=network) as client:
            reply = await client.send("GET", f"http://hooks.example:{server.port}/x")
    assert reply.status_code == 200 and network.dialed == [PUBLIC_IP]
    assert server.requests[0].headers["host"] == f"hooks.example:{server.port}"


@pytest.mark.parametrize("location", ["http://127.0.0.1:{port}/secret", "http://internal.example:{port}/secret",
                                      "http://[::1]:{port}/secret"])
async def test_a_redirect_to_a_private_address_is_refused(location):
    async with local_server() as server:
        server.answer = lambda path: ((302, {"Location": location.format(port=server.port)}, b"")
                                      if path == "/start" else (200, {}, b"secret"))
        dns = fake_dns({"public.example": [PUBLIC_IP], "internal.example": ["10.0.0.7"]})
        async with Outbound(resolver=dns, network=ToLoopback()) as client:
            with pytest.raises(RefusedTarget):
                await client.send("GET", f"http://public.example:{server.port}/start")
    assert [r.path for r in server.requests] == ["/start"]  # the private hop was never made


async def test_redirects_are_bounded():
    async with local_server(lambda path: (302, {"Location": path + "x"}, b"")) as server:
        async with Outbound(allow_private=True, max_redirects=2) as client:
            with pytest.raises(OutboundError, match="too many redirects"):
                await client.send("GET", f"{server.url}/r")
    assert len(server.requests) == 3


async def test_the_response_body_read_is_bounded():
    async with local_server(lambda path: (200, {}, b"a" * 1_000_000)) as server:
        async with Outbound(allow_private=True, max_body=1024) as client:
            reply = await client.send("GET", f"{server.url}/big")
    assert (len(reply.body), reply.truncated) == (1024, True)


async def test_a_silent_server_times_out():
    async def never_answer(reader, writer):
        await asyncio.sleep(5)

    listener = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with Outbound(allow_private=True, total_timeout=0.3) as client:
            with pytest.raises(OutboundError, match="no answer within 0.3 seconds|timed out"):
                await client.send("GET", f"http://127.0.0.1:{port}/")
    finally:
        listener.close()


async def test_an_unresolvable_name_fails_at_delivery():
    async with Outbound(resolver=fake_dns({})) as client:
        with pytest.raises(OutboundError, match="could not be resolved") as failure:
            await client.send("GET", "http://nowhere.example/")
    assert not isinstance(failure.value, RefusedTarget)


# -- check_target: the same rules when a URL is saved ------------------------------------------

@pytest.mark.parametrize("url, message", [
    ("ftp://files.example/x", "Invalid request body: 'url' must be an http or https URL."),
    ("hooks.example/x", "Invalid request body: 'url' must be an http or https URL."),
    ("http://10.0.0.1/hook", "Invalid request body: 'url' must not point to a private or local network: "
                             "10.0.0.1 is a private, local or reserved address."),
    ("http://169.254.169.254/", "Invalid request body: 'url' must not point to a private or local network: "
                                "169.254.169.254 is a private, local or reserved address."),
    ("http://[::1]/", "Invalid request body: 'url' must not point to a private or local network: "
                      "::1 is a private, local or reserved address."),
    ("http://localhost:8000/", "Invalid request body: 'url' must not point to a private or local network: "
                               "localhost (127.0.0.1) is a private, local or reserved address."),
])
async def test_check_target_refuses_with_a_clear_400(url, message):
    dns = fake_dns({"localhost": ["127.0.0.1"]})
    with pytest.raises(errors.BadRequest) as refused:
        await check_target(url, allow_private=False, resolver=dns)
    assert refused.value.message == message


async def test_check_target_accepts_public_and_unresolvable_names():
    dns = fake_dns({"hooks.example": [PUBLIC_IP]})
    assert await check_target("https://hooks.example/x", allow_private=False, resolver=dns)
    assert await check_target("https://not-yet.example/x", allow_private=False, resolver=dns)


async def test_check_target_resolves_nothing_when_private_targets_are_allowed():
    async def no_dns(host, port):
        raise AssertionError("resolved")

    assert await check_target("http://localhost/x", allow_private=True, resolver=no_dns)
    with pytest.raises(errors.BadRequest, match="http or https"):
        await check_target("file:///etc/passwd", allow_private=True, resolver=no_dns)
