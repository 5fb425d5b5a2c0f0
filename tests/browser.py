"""Driving the dashboard like a browser does: forms with their CSRF token."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE_ATTR = re.compile(r'value="([^"]*)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a dashboard page."""
    tag = CSRF_INPUT.search(html)
    assert tag is not None, "no csrf_token field on the page"
    value = VALUE_ATTR.search(tag.group(0))
    assert value is not None
    return value.group(1)


async def login(client: Client, email: str, password: str, next_path: str = "/") -> str:
    """Sign in through the login form; return the CSRF token of the page after it."""
    page = await client.get("/login", params={"next": next_path})
    assert page.status == 200
    form = {"email": email, "password": password, "next": next_path}
    response = await client.post(
        "/login", data={**form, "csrf_token": csrf_from(await page.text())}
    )
    assert response.status == 200, await response.text()
    return csrf_from(await response.text())
