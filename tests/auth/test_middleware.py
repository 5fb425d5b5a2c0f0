"""The auth middleware (auth/middleware.py): Bearer tokens and login cookies
to a principal, anonymous requests refused (401 JSON for the API, a redirect to
the login page for pages), public paths, and no CSRF check for Bearer requests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from replay_server.auth.middleware import is_public
from replay_server.db.engine import SessionFactory
from replay_server.db.models import ApiToken
from replay_server.timeutil import now_ms
from tests.browser import Client, login
from tests.conftest import Tenant


async def test_bearer_token_authenticates_api(client: Client, tenant: Tenant) -> None:
    response = await client.get("/api/v1/sites", headers=tenant.headers)
    assert response.status == 200
    assert [s["id"] for s in (await response.json())["sites"]] == [tenant.site_id]


@pytest.mark.parametrize(
    "header",
    ["Bearer rs_unknown", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-even-prefixed"],
)
async def test_bad_credentials_get_401_json(client: Client, tenant: Tenant, header: str) -> None:
    response = await client.get("/api/v1/sites", headers={"Authorization": header})
    assert response.status == 401
    body = await response.json()
    assert body["error"]["code"] == "unauthorized"


async def test_anonymous_api_request_gets_401_json(client: Client) -> None:
    response = await client.get("/api/v1/sessions/abc")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_revoked_token_is_refused(client: Client, db: SessionFactory, tenant: Tenant) -> None:
    async with db() as s:
        await s.execute(update(ApiToken).values(revoked_ms=now_ms()))
        await s.commit()
    response = await client.get("/api/v1/sites", headers=tenant.headers)
    assert response.status == 401


async def test_dashboard_page_redirects_anonymous_to_login(client: Client) -> None:
    response = await client.get("/sites/1/sessions?url=/cart", allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/sites/1/sessions?url=/cart"]}


@pytest.mark.parametrize(
    "path",
    [
        "/recorder.js",
        "/ingest/ws",
        "/ingest/batch",
        "/healthz",
        "/metrics",
        "/login",
        "/static/player/player.js",
        "/demo",
        "/demo/second",
        "/opt-out",
    ],
)
def test_public_paths(path: str) -> None:
    assert is_public(path)


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/sites", "/sites/1/sessions", "/sessions/x", "/logout", "/loginx"]
)
def test_private_paths(path: str) -> None:
    assert not is_public(path)


async def test_proxy_basic_auth_does_not_hide_the_login_cookie(
    client: Client, tenant: Tenant
) -> None:
    await login(client, tenant.email, tenant.password)
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    response = await client.get("/api/v1/sites", headers=basic)
    assert response.status == 200


async def test_bearer_requests_need_no_csrf(client: Client, tenant: Tenant) -> None:
    response = await client.post("/logout", headers=tenant.headers, allow_redirects=False)
    assert response.status == 303
