"""The site settings pages (dashboard/sites.py): an admin sees the settings and
the snippet, saves changes that reach the next hello at once (invalid input
comes back with its message, nothing saved), and rotates the site key."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from replay_server.db.engine import SessionFactory
from replay_server.db.models import Site
from tests.accounts.test_site_settings import GOOD_FORM, _post_batch
from tests.browser import Client, login
from tests.conftest import MakeTenant, Tenant


async def test_saved_settings_reach_the_next_hello_at_once(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    status, body = await _post_batch(client, tenant.site_key, str(uuid.uuid4()))
    assert status == 200 and body["config"]["maskAllText"] is False  # now cached
    csrf = await login(client, tenant.email, tenant.password)
    page = await client.get(f"/sites/{tenant.site_id}/settings")
    assert page.status == 200 and tenant.site_key in await page.text()
    form = {
        **GOOD_FORM,
        "origins": "https://alice.example",
        "sample_percent": "100",
        "mask_all_text": "on",
        "csrf_token": csrf,
    }
    saved = await client.post(f"/sites/{tenant.site_id}/settings", data=form)
    assert saved.status == 200 and "Settings saved" in await saved.text()
    status, body = await _post_batch(client, tenant.site_key, str(uuid.uuid4()))
    config = body["config"]
    assert config["maskAllText"] is True and config["mousemoveSampleMs"] == 100
    assert config["blockSelector"] == GOOD_FORM["block_selector"] and config["sampleRate"] == 1.0
    async with db() as s:
        site = await s.get(Site, tenant.site_id)
    assert site is not None and site.name == "Renamed shop" and site.settings["ip_mode"] == "none"
    # Invalid input: 400, the form comes back with the message, nothing saved.
    bad = await client.post(
        f"/sites/{tenant.site_id}/settings", data={**form, "retention_days": "0", "name": "Nope"}
    )
    text = await bad.text()
    assert bad.status == 400 and "retention_days" in text and 'value="Nope"' in text
    async with db() as s:
        assert (await s.get(Site, tenant.site_id)).name == "Renamed shop"  # type: ignore[union-attr]


async def test_rotated_key_stops_working_at_once(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    assert (await _post_batch(client, tenant.site_key, str(uuid.uuid4())))[0] == 200
    rotated = await client.post(f"/sites/{tenant.site_id}/rotate-key", headers=tenant.headers)
    assert rotated.status == 200 and "no longer works" in await rotated.text()
    status, body = await _post_batch(client, tenant.site_key, str(uuid.uuid4()))
    assert status == 401 and body["error"]["code"] == "unknown_site"
    async with db() as s:
        new_key = await s.scalar(select(Site.public_key).where(Site.id == tenant.site_id))
    assert new_key is not None and new_key != tenant.site_key and new_key.startswith("pk_")
    assert new_key in await rotated.text()
    assert (await _post_batch(client, new_key, str(uuid.uuid4())))[0] == 200


async def test_viewers_and_other_organisations_get_no_settings(
    client: Client, make_tenant: MakeTenant, tenant: Tenant
) -> None:
    viewer = await make_tenant("victor", role="viewer")
    for who, site_id in ((viewer, viewer.site_id), (tenant, viewer.site_id)):
        page = await client.get(f"/sites/{site_id}/settings", headers=who.headers)
        assert page.status in (403, 404), (who.email, page.status)
        rotated = await client.post(f"/sites/{site_id}/rotate-key", headers=who.headers)
        assert rotated.status in (403, 404)
    await login(client, tenant.email, tenant.password)
    assert (await client.get(f"/sites/{tenant.site_id}/settings")).status == 200
