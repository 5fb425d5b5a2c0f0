"""Retention keeps a site dictionary while a chunk needs it (or while it is
the site's newest, or was replaced only recently) and deletes it after; a
deleted site takes its dictionaries with it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from replay_server import keys
from replay_server.chunks.dictionary_store import add_dictionary
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Chunk, Site, SiteDictionary
from replay_server.privacy.retention import DAY_MS, DICTIONARY_GRACE_MS, sweep
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.conftest import AddSession, Tenant

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
NOW = now_ms()
HOUR = 3_600_000


async def dictionaries_of(db: SessionFactory, site_id: int) -> list[int]:
    async with db() as s:
        return list(
            await s.scalars(
                select(SiteDictionary.id)
                .where(SiteDictionary.site_id == site_id)
                .order_by(SiteDictionary.id)
            )
        )


async def chunk_using(db: SessionFactory, sid: str, dictionary_id: int, idx: int = 0) -> None:
    async with db() as s, s.begin():
        s.add(
            Chunk(
                session_id=sid, idx=idx, page=0, blob_key=f"s/x/{sid}/{idx}", format_version=2,
                first_seq=idx, last_seq=idx, first_ts=1, last_ts=2, event_count=1, raw_bytes=1,
                stored_bytes=1, has_full_snapshot=True, created_ms=NOW,
                dictionary_id=dictionary_id,
            )
        )  # fmt: skip


async def test_dictionaries_live_while_chunks_need_them(
    client: Client, db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    site = tenant.site_id
    old = await add_dictionary(db, site, b"old", 1, 1, NOW - 10 * DAY_MS)
    used = await add_dictionary(db, site, b"used", 1, 1, NOW - 9 * DAY_MS)
    recent = await add_dictionary(db, site, b"recent", 1, 1, NOW - 2 * HOUR)
    replaced_lately = await add_dictionary(db, site, b"replaced", 1, 1, NOW - HOUR - 60_000)
    newest = await add_dictionary(db, site, b"newest", 1, 1, NOW - DICTIONARY_GRACE_MS // 2)
    # A session past retention (30 days) using `old`; a fresh one using `used`.
    expired = await add_session(site, ["https://a.example/"], last_seen_ms=NOW - 40 * DAY_MS)
    await chunk_using(db, expired, old)
    fresh = await add_session(site, ["https://a.example/"], last_seen_ms=NOW - DAY_MS)
    await chunk_using(db, fresh, used)

    blobs = client.app[keys.BLOBS]
    dry = await sweep(db, blobs, NOW, dry_run=True)
    assert dry.dictionaries == 0 and await dictionaries_of(db, site) == [
        old, used, recent, replaced_lately, newest
    ]  # fmt: skip

    report = await sweep(db, blobs, NOW)
    # `old` lost its last chunk with the expired session; `recent` was replaced by
    # `replaced_lately` over an hour ago and no chunk names it. `replaced_lately`
    # was replaced only half an hour ago: a writer may still be using it.
    assert report.dictionaries == 2
    assert await dictionaries_of(db, site) == [used, replaced_lately, newest]

    later = await sweep(db, blobs, NOW + DICTIONARY_GRACE_MS)
    assert later.dictionaries == 1
    assert await dictionaries_of(db, site) == [used, newest]  # the newest always stays

    # Once the fresh session expires too, `used` goes; the newest still stays.
    await sweep(db, blobs, NOW + 31 * DAY_MS)
    assert await dictionaries_of(db, site) == [newest]


async def test_a_site_dictionary_goes_with_its_site(
    client: Client, db: SessionFactory, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await add_dictionary(db, tenant.site_id, b"mine", 1, 1, NOW)
    theirs = await add_dictionary(db, other_tenant.site_id, b"theirs", 1, 1, NOW)
    async with db() as s, s.begin():
        await s.execute(delete(Site).where(Site.id == tenant.site_id))
    assert await dictionaries_of(db, tenant.site_id) == []
    assert await dictionaries_of(db, other_tenant.site_id) == [theirs]
    # Ids are never reused: a chunk naming `mine` can never decode with another's.
    again = await add_dictionary(db, other_tenant.site_id, b"again", 1, 1, NOW)
    assert again > max(mine, theirs)
