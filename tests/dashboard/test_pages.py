from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from replay_server.auth.login import LOGIN_COOKIE
from tests.browser import Client, csrf_from, login
from tests.conftest import AddSession, Tenant

HTML = {"Accept": "text/html,application/xhtml+xml"}


async def test_logged_out_pages_redirect_to_login(client: Client) -> None:
    for path in ("/", "/sites/1/sessions?url=%2Fcart", "/sessions/abc"):
        response = await client.get(path, headers=HTML, allow_redirects=False)
        assert response.status == 302, path
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login"
        assert parse_qs(location.query)["next"] == [path.replace("%2F", "/")]


async def test_login_flow_lands_on_next(client: Client, tenant: Tenant) -> None:
    page = await client.get("/login", params={"next": "/sites/1/sessions?url=x"})
    text = await page.text()
    assert page.status == 200 and 'name="password"' in text
    data = {
        "email": tenant.email.upper(),  # emails are case-insensitive
        "password": tenant.password,
        "next": "/sites/1/sessions?url=x",
        "csrf_token": csrf_from(text),
    }
    response = await client.post("/login", data=data, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/sites/1/sessions?url=x"
    sites = await client.get("/")
    assert sites.status == 200
    assert tenant.email in await sites.text()
    # Visiting /login while logged in goes straight on.
    again = await client.get("/login", params={"next": "/"}, allow_redirects=False)
    assert again.status == 302 and again.headers["Location"] == "/"


async def test_wrong_password_is_refused_without_a_cookie(client: Client, tenant: Tenant) -> None:
    for email, password in ((tenant.email, "wrong password"), ("nobody@example.com", "x" * 10)):
        page = await client.get("/login")
        data = {"email": email, "password": password, "csrf_token": csrf_from(await page.text())}
        response = await client.post("/login", data=data, allow_redirects=False)
        assert response.status == 401
        assert "Wrong email or password." in await response.text()
        assert LOGIN_COOKIE not in response.cookies


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
     "evil", "/\t/evil.example"],
)  # fmt: skip
async def test_next_cannot_redirect_elsewhere(client: Client, tenant: Tenant, target: str) -> None:
    page = await client.get("/login", params={"next": target})
    text = await page.text()
    assert f'value="{html.escape(target)}"' not in text or target == "/"
    data = {
        "email": tenant.email,
        "password": tenant.password,
        "next": target,
        "csrf_token": csrf_from(text),
    }
    response = await client.post("/login", data=data, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_login_without_valid_csrf_token_is_403(client: Client, tenant: Tenant) -> None:
    await client.get("/login")  # has the pre-login cookie, but not the token
    form = {"email": tenant.email, "password": tenant.password}
    for extra in ({}, {"csrf_token": "forged"}):
        response = await client.post("/login", data={**form, **extra}, headers=HTML)
        assert response.status == 403
        assert LOGIN_COOKIE not in response.cookies
        assert "CSRF" in await response.text()


async def test_login_csrf_needs_the_pre_login_cookie(
    client: Client, aiohttp_client: object, tenant: Tenant
) -> None:
    page = await client.get("/login")
    token = csrf_from(await page.text())
    client.session.cookie_jar.clear()  # another browser: the token alone is not enough
    data = {"email": tenant.email, "password": tenant.password, "csrf_token": token}
    response = await client.post("/login", data=data)
    assert response.status == 403


async def test_sites_page_shows_the_snippet_escaped(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    text = await (await client.get("/")).text()
    assert "Site alice" in text
    expected = (
        f'<script src="http://127.0.0.1:8321/recorder.js" data-site-key="{tenant.site_key}"'
        " async></script>"
    )
    assert html.escape(expected, quote=False) in text.replace("&#34;", '"').replace("&quot;", '"')
    assert expected not in text


async def test_session_list_escapes_urls_with_markup(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    evil = 'https://a.example/?q="><script>alert(1)</script>'
    await add_session(tenant.site_id, [evil])
    await login(client, tenant.email, tenant.password)
    response = await client.get(f"/sites/{tenant.site_id}/sessions")
    text = await response.text()
    assert response.status == 200
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_session_list_filter_is_a_shareable_link(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    cart = await add_session(tenant.site_id, ["https://a.example/", "https://a.example/cart"])
    other = await add_session(tenant.site_id, ["https://a.example/about"])
    await login(client, tenant.email, tenant.password)
    text = await (await client.get(f"/sites/{tenant.site_id}/sessions?url=CART")).text()
    assert f"/sessions/{cart}" in text and f"/sessions/{other}" not in text
    assert 'value="CART"' in text


async def test_session_list_pages_with_next_url(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    ids = [
        await add_session(tenant.site_id, ["https://a.example/p"], started_ms=1_000 + i)
        for i in range(3)
    ]
    await login(client, tenant.email, tenant.password)
    first = await client.get(f"/sites/{tenant.site_id}/sessions", params={"url": "/p", "limit": 2})
    text = await first.text()
    assert f"/sessions/{ids[2]}" in text and f"/sessions/{ids[0]}" not in text
    link = re.search(r'<a[^>]*href="([^"]*)"[^>]*rel="next"', text)
    assert link is not None
    next_url = html.unescape(link.group(1))
    assert parse_qs(urlsplit(next_url).query)["url"] == ["/p"]
    second = await client.get(next_url)
    assert f"/sessions/{ids[0]}" in await second.text()


async def test_logout_then_logged_out(client: Client, tenant: Tenant) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    response = await client.post("/logout", data={"csrf_token": csrf})
    assert response.status == 200 and response.url.path == "/login"
    assert (await client.get("/", allow_redirects=False)).status == 302
