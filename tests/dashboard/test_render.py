"""Rendering dashboard pages (dashboard/render.py) with the app's real
templates: every page carries the CSRF token and the title and is not cached;
an error page falls back to plain text when no template can be rendered."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from replay_server import keys
from replay_server.auth.csrf import csrf_token
from replay_server.dashboard.render import base_context, redirect, render, render_error
from replay_server.settings import Settings
from tests.browser import Client


async def test_a_page_carries_the_csrf_token_and_title_and_is_not_cached(client: Client) -> None:
    request = make_mocked_request("GET", "/", app=client.app)  # started: the secret is loaded
    context = base_context(request, "Sites")
    assert context == {"user_email": None, "csrf_token": csrf_token(request), "title": "Sites"}
    response = render(request, "error.html", "Oops", {"status": 418, "message": "<b>tea</b>"}, 418)
    assert response.status == 418 and response.headers["Cache-Control"] == "no-store"
    assert response.text is not None
    assert "&lt;b&gt;tea&lt;/b&gt;" in response.text and "<b>tea</b>" not in response.text


def test_an_error_page_falls_back_to_plain_text() -> None:
    bare = web.Application()  # no template engine
    bare[keys.SECRET] = b"s" * 32
    bare[keys.SETTINGS] = Settings()
    response = render_error(make_mocked_request("GET", "/", app=bare), 503, "down")
    assert (response.status, response.text) == (503, "503: down\n")


def test_a_redirect_after_a_post_is_303() -> None:
    response = redirect("/sites/1/settings?done=saved")
    assert (response.status, response.headers["Location"]) == (303, "/sites/1/settings?done=saved")
