"""The dictionary trainer (chunks/dictionary_trainer.py) on a real database,
blob directory and chunk writer: nothing before a site has enough, a dictionary
once it has, the writer's next chunks use it, a new one after
RETRAIN_AFTER_CHUNKS chunks were compressed with the newest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from replay_server.chunks.build import ChunkBuilder
from replay_server.chunks.catalog import ChunkCatalog
from replay_server.chunks.dictionaries import MIN_RAW_BYTES, RATIO_WINDOW, RETRAIN_AFTER_CHUNKS
from replay_server.chunks.dictionary_store import NewestDictionaries
from replay_server.chunks.dictionary_trainer import DictionaryTrainer
from replay_server.chunks.writer import ChunkWriter
from replay_server.db.engine import SessionFactory
from replay_server.db.models import CHUNKS, Chunk
from replay_server.spool.records import RawEntry, SpoolEntry
from replay_server.storage.local import LocalBlobStore
from replay_server.timeutil import now_ms
from tests.chunks.site_pages import site_sessions
from tests.conftest import AddSession, Tenant

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)


@pytest.fixture
async def parts(
    db: SessionFactory, tmp_path: Path
) -> AsyncIterator[tuple[ChunkWriter, DictionaryTrainer]]:
    builder = ChunkBuilder(0)
    blobs = LocalBlobStore(tmp_path / "blobs")
    newest = NewestDictionaries(db, ttl=3600.0)  # only forget() makes the writer look again
    writer = ChunkWriter(ChunkCatalog(db), blobs, builder, newest)
    try:
        yield writer, DictionaryTrainer(db, blobs, builder, newest)
    finally:
        await builder.close()


async def store(
    writer: ChunkWriter, add_session: AddSession, site_id: int, pages: list[list[dict[str, Any]]]
) -> list[str]:
    sids = []
    for events in pages:
        sid = await add_session(site_id, ["https://shop.example/"])
        runs = [events[i : i + 25] for i in range(0, len(events), 25)]
        entries = [
            RawEntry.of(SpoolEntry(site_id, sid, seq, 0, run)) for seq, run in enumerate(runs)
        ]
        assert (await writer.store(sid, entries)).batches == len(runs)
        sids.append(sid)
    return sids


async def dictionary_ids(db: SessionFactory, sids: list[str]) -> set[int]:
    async with db() as s:
        return set(await s.scalars(select(Chunk.dictionary_id).where(Chunk.session_id.in_(sids))))


async def test_trained_when_due_then_used_then_retrained(
    parts: tuple[ChunkWriter, DictionaryTrainer],
    db: SessionFactory,
    tenant: Tenant,
    add_session: AddSession,
) -> None:
    writer, trainer = parts
    pages = [p for s in site_sessions(31, 70, max_pages=1, start_ms=now_ms()) for p in s]
    few = await store(writer, add_session, tenant.site_id, pages[:20])
    volume = await trainer.volume(tenant.site_id)
    assert volume.chunks == 20 and volume.raw_bytes < MIN_RAW_BYTES
    assert await trainer.run_once() == []  # not enough yet

    more = await store(writer, add_session, tenant.site_id, pages[20:65])
    assert (await trainer.volume(tenant.site_id)).raw_bytes >= MIN_RAW_BYTES
    assert await dictionary_ids(db, few + more) == {0}
    [first] = await trainer.run_once()
    assert await trainer.run_once() == []  # a new dictionary is not retrained at once

    later = await store(writer, add_session, tenant.site_id, pages[65:])
    assert await dictionary_ids(db, later) == {first}
    assert (await trainer.volume(tenant.site_id)).chunks_with_newest == len(later)

    # Once RETRAIN_AFTER_CHUNKS chunks name the newest, the site gets a new one.
    filler = await add_session(tenant.site_id, ["https://shop.example/"])
    async with db() as s, s.begin():
        await s.execute(
            insert(CHUNKS),
            [
                {
                    "session_id": filler, "idx": i, "page": 0, "blob_key": f"gone/{i}",
                    "format_version": 2, "first_seq": i, "last_seq": i, "first_ts": i,
                    "last_ts": i, "event_count": 1, "raw_bytes": 1, "stored_bytes": 1,
                    "has_full_snapshot": False, "created_ms": 0, "dictionary_id": first,
                }
                for i in range(RETRAIN_AFTER_CHUNKS - len(later))
            ],
        )  # fmt: skip
    [second] = await trainer.run_once()
    assert second > first
    newest = await store(writer, add_session, tenant.site_id, pages[:1])
    assert await dictionary_ids(db, newest) == {second}


async def test_another_sites_volume_does_not_count(
    parts: tuple[ChunkWriter, DictionaryTrainer],
    tenant: Tenant,
    other_tenant: Tenant,
    add_session: AddSession,
) -> None:
    writer, trainer = parts
    pages = [p for s in site_sessions(32, 65, max_pages=1, start_ms=now_ms()) for p in s]
    await store(writer, add_session, other_tenant.site_id, pages)
    assert (await trainer.volume(tenant.site_id)).chunks == 0
    trained = await trainer.run_once()
    assert len(trained) == 1
    assert await writer.dictionaries.newest(tenant.site_id) is None
    chosen = await writer.dictionaries.newest(other_tenant.site_id)
    assert chosen is not None and chosen.id == trained[0]


@pytest.mark.parametrize(("recent_stored", "retrained"), [(12, False), (14, True)])
async def test_retrained_sooner_when_new_chunks_compress_worse(
    parts: tuple[ChunkWriter, DictionaryTrainer],
    db: SessionFactory,
    tenant: Tenant,
    add_session: AddSession,
    recent_stored: int,
    retrained: bool,
) -> None:
    """A redesign: the newest RATIO_WINDOW chunks came out RATIO_WORSENED times
    bigger (per msgpack byte) than the dictionary's first RATIO_WINDOW did."""
    writer, trainer = parts
    pages = [p for s in site_sessions(33, 65, max_pages=1, start_ms=now_ms()) for p in s]
    await store(writer, add_session, tenant.site_id, pages)
    [first] = await trainer.run_once()
    filler = await add_session(tenant.site_id, ["https://shop.example/"])
    rows = [
        {
            "session_id": filler, "idx": i, "page": 0, "blob_key": f"gone/{i}",
            "format_version": 2, "first_seq": i, "last_seq": i, "first_ts": i, "last_ts": i,
            "event_count": 1, "raw_bytes": 100,
            # the first window at 10 bytes per 100, the newest at `recent_stored`
            "stored_bytes": 10 if i < RATIO_WINDOW else recent_stored,
            "has_full_snapshot": False, "created_ms": i if i < RATIO_WINDOW else 2 * now_ms() + i,
            "dictionary_id": first,
        }
        for i in range(2 * RATIO_WINDOW)
    ]  # fmt: skip
    async with db() as s, s.begin():
        await s.execute(insert(CHUNKS), rows)
    volume = await trainer.volume(tenant.site_id)
    assert volume.first_ratio == pytest.approx(0.1)
    assert volume.recent_ratio == pytest.approx(recent_stored / 100)
    assert volume.chunks_with_newest < RETRAIN_AFTER_CHUNKS
    assert (len(await trainer.run_once()) == 1) is retrained
