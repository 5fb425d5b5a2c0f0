"""A recorder that does not redact URLs (a protocol client, not our recorder):
the server redacts the hello's url and referrer and the Meta events' href before
anything is stored, served or indexed (privacy/urls.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from replay_server import keys
from replay_server.accounts import orgs as accounts
from replay_server.chunks.format import decompress_chunk
from replay_server.db.models import Site
from tests.ingest_server import BOTH_FRAME_PATHS, ORIGIN, IngestServer, Recorder
from tests.rrweb_events import now_ms, page_events

URL = (
    ORIGIN + "/account?email=jane%40example.org&token=tok-8812abc&promo_code=SPRING55"
    "&partner=acme7partner&page=2#access_token=xyz-acc-991"
)
REFERRER = "https://mail.example/inbox/jane.doe@example.org?sid=s3cr3t-77"
SECRETS = ["jane", "tok-8812abc", "acme7partner", "xyz-acc-991", "s3cr3t-77", "access_token"]
EXPECTED = (
    ORIGIN + "/account?email=REDACTED&token=REDACTED&promo_code=SPRING55&partner=REDACTED&page=2"
)


def everything_written(data_dir: Path) -> bytes:
    """Every file under the data dir (SQLite database and WAL, spool, blobs),
    chunk blobs decompressed too."""
    parts = [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    parts += [decompress_chunk(blob.read_bytes()) for blob in (data_dir / "blobs").rglob("*.rsc")]
    return b"\n".join(parts)


async def api_token(ingest: IngestServer) -> str:
    async with ingest.app[keys.DB]() as db:
        org_id = await db.scalar(select(Site.org_id).where(Site.id == ingest.site_id))
        assert org_id is not None
        email = f"viewer-{uuid.uuid4().hex[:8]}@staff.test"
        await accounts.create_user(db, email, "a-long-password-1", org_id=org_id, role="owner")
        token, _ = await accounts.create_api_token(db, email)
        await db.commit()
    return token


async def api_texts(ingest: IngestServer, sid: str) -> list[str]:
    headers = {"Authorization": f"Bearer {await api_token(ingest)}"}
    paths = [
        f"/api/v1/sessions/{sid}",
        f"/api/v1/sessions/{sid}/events",
        f"/api/v1/sites/{ingest.site_id}/sessions",
        f"/api/v1/sites/{ingest.site_id}/sessions?url=token%3DREDACTED",
    ]
    texts = []
    async with aiohttp.ClientSession(ingest.http_url, headers=headers) as http:
        for path in paths:
            async with http.get(path) as response:
                assert response.status == 200, path
                texts.append(await response.text())
        for secret in SECRETS:  # search by a secret finds nothing
            async with http.get(
                f"/api/v1/sites/{ingest.site_id}/sessions", params={"url": secret}
            ) as response:
                assert (await response.json())["sessions"] == [], secret
    return texts


@BOTH_FRAME_PATHS
async def test_server_redacts_urls_a_recorder_sent_in_clear(
    ingest: IngestServer, recorder: Recorder, tmp_path: Path
) -> None:
    async with ingest.app[keys.DB]() as db, db.begin():
        await db.execute(
            update(Site)
            .where(Site.id == ingest.site_id)
            .values(settings={"url_params_allow": ["promo_code"], "url_params_deny": ["partner"]})
        )
    ingest.app[keys.SITES].forget(ingest.site_key)

    welcome = await recorder.connect(url=URL, referrer=REFERRER)
    assert welcome["config"]["urlParamsAllow"] == ["promo_code"]
    assert welcome["config"]["urlParamsDeny"] == ["partner"]
    await recorder.batch(0, page_events(now_ms(), href=URL))
    assert (await recorder.recv()) == {"t": "ack", "seq": 0}
    live: list[dict[str, Any]] = await ingest.events(recorder.sid)
    await recorder.close()
    assert live[0]["data"]["href"] == EXPECTED

    state = ingest.app[keys.INGESTOR].sessions[recorder.sid]
    await ingest.app[keys.INGESTOR].cut(state)
    texts = await api_texts(ingest, recorder.sid)
    assert recorder.sid in texts[3]  # the redacted URL is what search finds
    assert EXPECTED in texts[0] and EXPECTED in texts[1]
    assert "https://mail.example/inbox/REDACTED" in texts[0]
    written = everything_written(tmp_path / "data")
    assert EXPECTED.encode() in written
    for secret in SECRETS:
        assert secret.encode() not in written, secret
        for text in texts:
            assert secret not in text, secret


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"url_params_deny": ["a b"]}, "url_params_deny"),
        ({"url_params_allow": "x&y"}, "url_params_allow"),
        ({"url_params_allow": ["x"], "url_params_deny": ["X"]}, "url_params_deny"),
    ],
)
def test_lists_are_validated(settings: dict[str, Any], error: str) -> None:
    from replay_server.accounts.site_settings import SettingsError, validate_settings

    with pytest.raises(SettingsError) as raised:
        validate_settings(settings, {})
    assert error in raised.value.errors
