"""Site settings: validation of every field, the settings page, changes reaching
recorders at their next hello, key rotation, and sampling."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from replay_server import keys
from replay_server.accounts import orgs as accounts
from replay_server.accounts.orgs import DEFAULT_SITE_SETTINGS
from replay_server.accounts.site_settings import (
    SettingsError,
    SiteSettings,
    check_selector,
    complete_stored,
    parse_site_form,
    validate_settings,
)
from replay_server.db.engine import SessionFactory
from replay_server.db.models import RecordedSession, Site
from replay_server.ingest.sites import sampled_in
from tests.browser import Client
from tests.conftest import Tenant

GOOD_FORM = {
    "name": "Renamed shop",
    "origins": "HTTPS://Shop.Example:443/path\nhttp://localhost:8080, https://shop.example",
    "record": "on",
    "mask_all_inputs": "on",
    "sample_percent": "25",
    "mousemove_sample_ms": "100",
    "block_selector": ".payment, #chat [data-private='1']",
    "mask_text_selector": "p:not(.public)",
    "ip_mode": "none",
    "retention_days": "90",
}


@pytest.mark.parametrize(
    "selector",
    ["", ".a", "#b > .c", "a[href^='https://x,y']", "div:not(.x, .y)", "li:nth-child(2n+1)"],
)
def test_good_selectors(selector: str) -> None:
    assert check_selector(selector) == selector


@pytest.mark.parametrize(
    "selector",
    ["a {color: red}", "a;b", "<script>", ".a,", ", .a", "a[href", "a)", "a >", "'x", "\x00",
     "." + "a" * 1000],
)  # fmt: skip
def test_bad_selectors(selector: str) -> None:
    with pytest.raises(ValueError):
        check_selector(selector)


def test_form_is_validated_and_normalised() -> None:
    changes = parse_site_form(GOOD_FORM, DEFAULT_SITE_SETTINGS)
    assert changes.name == "Renamed shop"
    assert changes.origins == ["https://shop.example", "http://localhost:8080"]
    s = changes.settings
    assert s["sample_rate"] == 0.25 and s["mousemove_sample_ms"] == 100
    assert s["record"] and s["mask_all_inputs"] and not s["mask_all_text"] and not s["honor_dnt"]
    assert s["ip_mode"] == "none" and s["retention_days"] == 90


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("name", "x" * 201), ("origins", ""), ("origins", "ftp://x.example"),
     ("origins", "https://user:pw@x.example"), ("sample_percent", "101"),
     ("sample_percent", "nan"), ("sample_percent", "-1"), ("mousemove_sample_ms", "1.5"),
     ("mousemove_sample_ms", "99999"), ("retention_days", "0"), ("retention_days", "3651"),
     ("ip_mode", "everything"), ("block_selector", "}")],
)  # fmt: skip
def test_every_field_refuses_bad_values(field: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_site_form({**GOOD_FORM, field: value}, DEFAULT_SITE_SETTINGS)
    assert list(info.value.errors) == [field]


def test_json_settings_refuse_unknown_keys_and_wrong_types() -> None:
    with pytest.raises(SettingsError) as info:
        validate_settings(
            {"mask_all_inputz": True, "record": "yes", "sample_rate": True}, DEFAULT_SITE_SETTINGS
        )
    assert set(info.value.errors) == {"mask_all_inputz", "record", "sample_rate"}
    ok = validate_settings({"sample_rate": 0.5, "record": False}, {"batch_ms": 500})
    assert ok == {"batch_ms": 500, "sample_rate": 0.5, "record": False}


async def _post_batch(client: Client, site_key: str, sid: str) -> tuple[int, dict[str, Any]]:
    hello = {
        "v": 1, "site": site_key, "sid": sid, "vid": str(uuid.uuid4()), "page": 0,
        "url": "https://alice.example/", "referrer": "", "title": "t", "viewport": [800, 600],
        "screen": [800, 600], "lang": "en", "tz": "UTC", "clock": int(time.time() * 1000),
    }  # fmt: skip
    response = await client.post(
        "/ingest/batch",
        data=json.dumps({"hello": hello, "batches": []}),
        headers={"Origin": "https://alice.example", "Content-Type": "application/json"},
    )
    body: dict[str, Any] = await response.json()
    return response.status, body


def test_sampling_is_per_session_stable_and_uniform() -> None:
    sids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(10_000)]
    chosen = [sampled_in(3, sid, 0.3) for sid in sids]
    assert 0.27 < sum(chosen) / len(chosen) < 0.33
    assert chosen == [sampled_in(3, sid, 0.3) for sid in sids]  # same answer every time
    assert all(sampled_in(3, sid, 1.0) for sid in sids[:100])
    assert not any(sampled_in(3, sid, 0.0) for sid in sids[:100])


async def test_sampled_out_sessions_are_not_recorded(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s:
        site = await s.get(Site, tenant.site_id)
        assert site is not None
        site.settings = {**site.settings, "sample_rate": 0.5}
        await s.commit()
    client.app[keys.SITES].forget(tenant.site_key)
    answers = {}
    for _ in range(40):
        sid = str(uuid.uuid4())
        status, body = await _post_batch(client, tenant.site_key, sid)
        assert status in (200, 403), body
        answers[sid] = status == 200 and body["config"]["record"]
        # The same session asks again (next page): the same answer.
        again = await _post_batch(client, tenant.site_key, sid)
        assert (again[0] == 200 and again[1]["config"]["record"]) == answers[sid]
    recorded = [sid for sid, yes in answers.items() if yes]
    assert 0 < len(recorded) < 40
    async with db() as s:
        stored = await s.scalar(select(func.count()).select_from(RecordedSession))
    assert stored == len(recorded)


def test_the_defaults_are_what_a_new_site_stores() -> None:
    assert SiteSettings().stored() == DEFAULT_SITE_SETTINGS
    assert SiteSettings.from_stored(DEFAULT_SITE_SETTINGS) == SiteSettings()
    assert SiteSettings.from_stored(None) == SiteSettings() == SiteSettings.from_stored({})


def test_stored_settings_are_read_tolerantly() -> None:
    s = SiteSettings.from_stored(
        {"old_key": 1, "record": "yes", "retention_days": 7.5, "sample_rate": 2,
         "mousemove_sample_ms": 100, "batch_ms": 500, "mask_all_text": True,
         "block_selector": ".secret"}
    )  # fmt: skip
    assert s == SiteSettings(
        record=True, retention_days=30, sample_rate=1.0, mousemove_sample_ms=100,
        batch_ms=500, mask_all_text=True, block_selector=".secret",
    )  # fmt: skip
    # An unknown IP mode stores no address rather than the default's /24.
    assert SiteSettings.from_stored({"ip_mode": "everything"}).ip_mode == "none"
    assert SiteSettings.from_stored({"sample_rate": float("nan")}).sample_rate == 1.0


def test_complete_stored_fills_defaults_and_keeps_other_keys() -> None:
    assert complete_stored({"batch_ms": 500, "record": False}) == {
        **DEFAULT_SITE_SETTINGS, "batch_ms": 500, "record": False,
    }  # fmt: skip


async def test_a_site_is_created_with_valid_settings_only(db: SessionFactory) -> None:
    async with db() as s:
        org = await accounts.ensure_organisation(s, "Org typed")
        site = await accounts.create_site(
            s, org.id, "Typed", ["https://typed.example"], {"retention_days": 7}
        )
        assert site.settings == {**DEFAULT_SITE_SETTINGS, "retention_days": 7}
        with pytest.raises(SettingsError) as info:
            await accounts.create_site(
                s, org.id, "Bad", ["https://bad.example"], {"retention_days": "x"}
            )
        assert list(info.value.errors) == ["retention_days"]


async def test_a_hand_stored_batch_interval_reaches_the_recorder(
    client: Client, db: SessionFactory, tenant: Tenant
) -> None:
    async with db() as s:
        site = await s.get(Site, tenant.site_id)
        assert site is not None
        site.settings = {**site.settings, "batch_ms": 2500}
        await s.commit()
    client.app[keys.SITES].forget(tenant.site_key)
    info = await client.app[keys.SITES].by_key(tenant.site_key)
    assert info.recorder_config()["batchMs"] == 2500
