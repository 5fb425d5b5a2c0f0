"""The player page (player/views.py): a member of the session's organisation
gets the page for that session; anyone else gets the same 404 as for a missing
session, as an HTML page."""

from __future__ import annotations

from tests.browser import Client, login
from tests.conftest import AddSession, MakeTenant
from tests.dashboard.test_pages import HTML


async def test_player_page_and_isolation(
    client: Client, make_tenant: MakeTenant, add_session: AddSession
) -> None:
    alice, bob = await make_tenant("alice"), await make_tenant("bob")
    sid = await add_session(alice.site_id, ["https://alice.example/"])
    await login(client, alice.email, alice.password)
    page = await client.get(f"/sessions/{sid}")
    assert page.status == 200
    assert f'data-session-id="{sid}"' in await page.text()

    client.session.cookie_jar.clear()
    await login(client, bob.email, bob.password)
    for path in (f"/sessions/{sid}", f"/sites/{alice.site_id}/sessions", "/sessions/missing"):
        response = await client.get(path, headers=HTML)
        assert response.status == 404, path
        assert response.content_type == "text/html"
        assert "not found" in await response.text()


async def test_the_page_names_the_site_and_is_not_cached(
    client: Client, make_tenant: MakeTenant, add_session: AddSession
) -> None:
    alice = await make_tenant("alice")
    sid = await add_session(alice.site_id, ["https://alice.example/"])
    page = await client.get(f"/sessions/{sid}?t=12", headers=alice.headers)
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Site alice" in await page.text()
