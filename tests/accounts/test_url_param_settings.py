"""The site's URL parameter lists (url_params_allow / url_params_deny): edited on
the settings page, validated, sent to recorders in the welcome config, and
applied by the server on the HTTP fallback path whatever the recorder sent."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy import select

from replay_server.accounts.site_settings import SiteSettings
from replay_server.db.engine import SessionFactory
from replay_server.db.models import RecordedSession, Site
from tests.browser import Client, login
from tests.conftest import Tenant
from tests.rrweb_events import now_ms, page_events

URL = "https://alice.example/p?promo_code=SPRING55&partner=acme7partner&token=tok-1#code=x"
KEPT = "https://alice.example/p?promo_code=SPRING55&partner=REDACTED&token=REDACTED"
FORM = {
    "name": "Shop",
    "origins": "https://alice.example",
    "record": "on",
    "mask_all_inputs": "on",
    "sample_percent": "100",
    "mousemove_sample_ms": "50",
    "block_selector": "",
    "mask_text_selector": "",
    "ip_mode": "truncated",
    "retention_days": "30",
}


async def _post(client: Client, site_key: str, sid: str) -> dict[str, Any]:
    hello = {
        "v": 1, "site": site_key, "sid": sid, "vid": str(uuid.uuid4()), "page": 0,
        "url": URL, "referrer": URL, "title": "t", "viewport": [800, 600],
        "screen": [800, 600], "lang": "en", "tz": "UTC", "clock": int(time.time() * 1000),
    }  # fmt: skip
    batches = [{"seq": 0, "page": 0, "events": page_events(now_ms(), href=URL)}]
    response = await client.post(
        "/ingest/batch",
        data=json.dumps({"hello": hello, "batches": batches}),
        headers={"Origin": "https://alice.example", "Content-Type": "application/json"},
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_lists_edited_on_the_page_apply_to_the_http_fallback(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    csrf = await login(client, tenant.email, tenant.password)
    form = {
        **FORM,
        "url_params_allow": "Promo_Code",
        "url_params_deny": "partner\nref",
        "csrf_token": csrf,
    }
    saved = await client.post(f"/sites/{tenant.site_id}/settings", data=form)
    assert saved.status == 200 and "Settings saved" in await saved.text()
    page = await (await client.get(f"/sites/{tenant.site_id}/settings")).text()
    assert ">partner\nref</textarea>" in page and ">promo_code</textarea>" in page

    sid = str(uuid.uuid4())
    body = await _post(client, tenant.site_key, sid)
    assert body["config"]["urlParamsAllow"] == ["promo_code"]
    assert body["config"]["urlParamsDeny"] == ["partner", "ref"]
    async with db() as s:
        row = await s.scalar(select(RecordedSession).where(RecordedSession.id == sid))
    assert row is not None and row.entry_url == KEPT and row.referrer == KEPT
    events = await client.get(f"/api/v1/sessions/{sid}/events", headers=tenant.headers)
    text = await events.text()
    assert KEPT in text and "acme7partner" not in text and "tok-1" not in text

    # A name in both lists, or one that is not a parameter name: 400, nothing saved.
    for bad in ({"url_params_deny": "promo_code"}, {"url_params_allow": "a=b"}):
        refused = await client.post(f"/sites/{tenant.site_id}/settings", data={**form, **bad})
        assert refused.status == 400, bad
    async with db() as s:
        site = await s.get(Site, tenant.site_id)
    assert site is not None
    stored = SiteSettings.from_stored(site.settings)
    assert stored.url_params_deny == ("partner", "ref")
    assert stored.url_params_allow == ("promo_code",)
