"""A recorder that sends an e-mail address in the page title (a protocol client,
not our recorder): the server stores and serves the title with the address
redacted, as in URLs (RecorderConnection.on_hello, privacy/urls.py)."""

from __future__ import annotations

from sqlalchemy import select

from replay_server import keys
from replay_server.db.models import PageView
from tests.ingest_server import IngestServer, Recorder


async def test_email_addresses_in_the_hello_title_are_redacted(
    ingest: IngestServer, recorder: Recorder
) -> None:
    await recorder.connect(title="Account of jane.doe@example.org (jane%40example.org)")
    await recorder.close()
    async with ingest.app[keys.DB]() as db:
        titles = list(
            await db.scalars(select(PageView.title).where(PageView.session_id == recorder.sid))
        )
    assert titles == ["Account of REDACTED (REDACTED)"]
