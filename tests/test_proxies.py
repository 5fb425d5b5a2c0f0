"""Trusted proxies: which X-Forwarded-For and X-Forwarded-Proto are believed,
checked on a real server reached from 127.0.0.1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from replay_server.errors import ConfigError
from replay_server.proxies import client_ip, is_trusted, parse_trusted_proxies, request_is_secure

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def test_spec_parsing() -> None:
    networks = parse_trusted_proxies(" 10.0.0.1, 192.168.0.0/16 ,, ::1 ")
    assert [str(n) for n in networks] == ["10.0.0.1/32", "192.168.0.0/16", "::1/128"]
    # host bits set are accepted (strict=False): a CIDR written from an address
    assert [str(n) for n in parse_trusted_proxies("10.1.2.3/8")] == ["10.0.0.0/8"]
    assert parse_trusted_proxies("") == ()
    with pytest.raises(ConfigError, match="'nonsense'"):
        parse_trusted_proxies("10.0.0.1, nonsense")


@pytest.mark.parametrize(
    ("address", "spec", "trusted"),
    [
        ("10.0.0.1", "10.0.0.1", True),
        ("192.168.4.5", "192.168.0.0/16", True),
        ("192.169.0.1", "192.168.0.0/16", False),
        ("::1", "::1", True),
        ("127.0.0.1", "::1", False),
        (None, "10.0.0.1", False),
        ("10.0.0.1", "", False),
        ("not an ip", "10.0.0.0/8", False),
    ],
)
def test_is_trusted(address: str | None, spec: str, trusted: bool) -> None:
    assert is_trusted(address, spec) is trusted


async def serve(
    aiohttp_client: ClientFactory, spec: str
) -> TestClient[web.Request, web.Application]:
    async def handler(request: web.Request) -> web.Response:
        secure = request_is_secure(request, spec)
        return web.json_response({"ip": client_ip(request, spec), "secure": secure})

    app = web.Application()
    app.router.add_get("/", handler)
    return await aiohttp_client(app)


async def seen(
    client: TestClient[web.Request, web.Application], **headers: str
) -> dict[str, object]:
    response = await client.get("/", headers=headers)
    body: dict[str, object] = await response.json()
    return body


async def test_an_untrusted_peer_is_the_client_whatever_it_forwards(
    aiohttp_client: ClientFactory,
) -> None:
    client = await serve(aiohttp_client, "10.0.0.0/8")
    body = await seen(client, **{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert body == {"ip": "127.0.0.1", "secure": False}


async def test_a_trusted_proxy_chain_is_walked_from_the_right(
    aiohttp_client: ClientFactory,
) -> None:
    client = await serve(aiohttp_client, "127.0.0.1, 10.0.0.0/8")
    # 10.0.0.7 is another trusted hop; 198.51.100.1 is the first untrusted one from
    # the right, so it is the client (whatever it claims itself: 203.0.113.9).
    body = await seen(
        client,
        **{
            "X-Forwarded-For": "203.0.113.9, 198.51.100.1 , 10.0.0.7",
            "X-Forwarded-Proto": "HTTPS, http",
        },
    )
    assert body == {"ip": "198.51.100.1", "secure": True}


async def test_a_chain_of_trusted_hops_only_ends_at_its_leftmost(
    aiohttp_client: ClientFactory,
) -> None:
    client = await serve(aiohttp_client, "127.0.0.1, 10.0.0.0/8")
    assert (await seen(client, **{"X-Forwarded-For": "10.0.0.1, 10.0.0.2"}))["ip"] == "10.0.0.1"
    assert await seen(client) == {"ip": "127.0.0.1", "secure": False}
    assert (await seen(client, **{"X-Forwarded-Proto": "http"}))["secure"] is False
