"""`GET /opt-out` (public, no cookie, no script) and the player's export link."""

from __future__ import annotations

from tests.browser import Client, login
from tests.conftest import AddSession, Tenant


async def test_opt_out_page_is_public_and_script_free(client: Client, tenant: Tenant) -> None:
    response = await client.get("/opt-out")
    assert response.status == 200
    html = await response.text()
    assert "Global Privacy Control" in html and "#rs-opt-out" in html
    assert "<script" not in html and "Set-Cookie" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )

    with_site = await (await client.get("/opt-out", params={"site": tenant.site_key})).text()
    assert 'href="https://alice.example/#rs-opt-out"' in with_site

    for bad in ("pk_" + "x" * 30, "<script>alert(1)</script>", "pk_'--"):
        page = await (await client.get("/opt-out", params={"site": bad})).text()
        assert "That site key is unknown here." in page and "<script>alert" not in page


async def test_player_offers_the_export(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(tenant.site_id, ["https://alice.example/"])
    await login(client, tenant.email, tenant.password)
    html = await (await client.get(f"/sessions/{sid}")).text()
    assert f'href="/api/v1/sessions/{sid}/export"' in html
    exported = await client.get(f"/api/v1/sessions/{sid}/export")  # the login cookie suffices
    assert exported.status == 200 and "attachment" in exported.headers["Content-Disposition"]
