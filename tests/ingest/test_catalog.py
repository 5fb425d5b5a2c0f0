"""The catalog's group transactions (session_rows, chunk_rows): many hellos and
chunk records at once come out as if each had its own transaction, on SQLite
and PostgreSQL; one caller's refusal or conflict does not touch the others."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from replay_server.db.engine import SessionFactory, make_session_factory
from replay_server.db.models import PageView, RecordedSession
from replay_server.errors import Forbidden, Unavailable
from replay_server.ingest.catalog import Catalog
from replay_server.protocol import Hello
from replay_server.spool.records import SpoolEntry
from tests.conftest import BOTH_DATABASES, Tenant
from tests.rrweb_events import mouse_move, now_ms

pytestmark = BOTH_DATABASES

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"


def hello(site_key: str, sid: str, page: int = 0, title: str = "Home") -> Hello:
    url = f"https://shop.test/p{page}?utm_source=ad"
    return Hello(site_key, sid, str(uuid.uuid4()), page, url, "https://ref.test/x", title,
                 (1280, 800), (1920, 1080), "en", "UTC", now_ms())  # fmt: skip


def batches(site_id: int, sid: str, seqs: range, page: int = 0) -> list[SpoolEntry]:
    t0 = now_ms()
    return [SpoolEntry(site_id, sid, s, page, [mouse_move(t0 + s * 1000)]) for s in seqs]


async def test_a_burst_of_hellos_opens_every_session_once(
    db: SessionFactory, tenant: Tenant, other_tenant: Tenant
) -> None:
    catalog = Catalog(db)
    t = now_ms()
    foreign = str(uuid.uuid4())
    await catalog.open_session(other_tenant.site_id, hello(other_tenant.site_key, foreign), UA, t)
    sids = [str(uuid.uuid4()) for _ in range(60)]
    calls = [catalog.open_session(tenant.site_id, hello(tenant.site_key, s), UA, t) for s in sids]
    # the same session twice in the burst (a second tab), a new page of one, and
    # a session of another site
    calls.append(catalog.open_session(tenant.site_id, hello(tenant.site_key, sids[0]), UA, t))
    calls.append(catalog.open_session(tenant.site_id, hello(tenant.site_key, sids[1], 1), UA, t))
    calls.append(catalog.open_session(tenant.site_id, hello(tenant.site_key, foreign), UA, t))
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert all(r.chunked_seq == -1 for r in results[:-1] if not isinstance(r, BaseException))
    assert not any(isinstance(r, BaseException) for r in results[:-1])
    assert isinstance(results[-1], Forbidden) and results[-1].code == "session_site_mismatch"
    async with db() as s:
        mine = (
            (
                await s.execute(
                    select(RecordedSession).where(RecordedSession.site_id == tenant.site_id)
                )
            )
            .scalars()
            .all()
        )
        views = await s.scalar(select(func.count()).select_from(PageView))
        theirs = await s.get(RecordedSession, foreign)
    assert sorted(r.id for r in mine) == sorted(sids)
    assert views == 60 + 1 + 1  # one per session, page 1 of sids[1], the foreign one
    second = next(r for r in mine if r.id == sids[1])
    assert second.page_count == 2 and second.exit_url == "https://shop.test/p1?utm_source=ad"
    first = next(r for r in mine if r.id == sids[0])
    assert (first.browser, first.utm_source, first.referrer_domain) == ("Chrome", "ad", "ref.test")
    assert theirs is not None and theirs.site_id == other_tenant.site_id  # untouched


async def test_a_hello_updates_the_title_and_reopens_an_ended_session(
    db: SessionFactory, tenant: Tenant
) -> None:
    catalog = Catalog(db)
    sid = str(uuid.uuid4())
    await catalog.open_session(tenant.site_id, hello(tenant.site_key, sid, title=""), UA, now_ms())
    await catalog.finish_idle_sessions(now_ms() + 1)
    later = now_ms() + 5000
    await catalog.open_session(tenant.site_id, hello(tenant.site_key, sid, title="Cart"), UA, later)
    async with db() as s:
        session = await s.get(RecordedSession, sid)
        view = await s.get(PageView, (sid, 0))
    assert session is not None and session.ended_ms is None and session.last_seen_ms == later
    assert view is not None and view.title == "Cart"


@pytest.mark.parametrize("count", [1, 40])
async def test_touch_moves_last_seen(db: SessionFactory, tenant: Tenant, count: int) -> None:
    catalog = Catalog(db)
    sids = [str(uuid.uuid4()) for _ in range(count)]
    await asyncio.gather(
        *(catalog.open_session(tenant.site_id, hello(tenant.site_key, s), UA, 1000) for s in sids)
    )
    await asyncio.gather(*(catalog.touch(s, 5000 + i) for i, s in enumerate(sids)))
    async with db() as s:
        seen = {r.id: r.last_seen_ms for r in (await s.execute(select(RecordedSession))).scalars()}
    assert seen == {sid: 5000 + i for i, sid in enumerate(sids)}


# Strings a caller that skipped the edge's cleaning could pass: a lone surrogate
# fails every UTF-8 encoder; NUL fails PostgreSQL's text type (SQLite stores it).
UNSTORABLE = ["Title \udcff", "\ud800", "nul \x00 here"]


async def test_a_hello_that_cannot_be_stored_fails_alone(
    db: SessionFactory, tenant: Tenant, backend: str
) -> None:
    catalog = Catalog(db)
    good = [(str(uuid.uuid4()), "Home") for _ in range(80)]
    bad = [(str(uuid.uuid4()), UNSTORABLE[i % len(UNSTORABLE)]) for i in range(26)]
    calls = list(good)
    for i, call in enumerate(bad):  # interleaved, so every group holds some of each
        calls.insert(3 * i + 1, call)
    results = await asyncio.gather(
        *(
            catalog.open_session(tenant.site_id, hello(tenant.site_key, sid, title=title), UA, 1)
            for sid, title in calls
        ),
        return_exceptions=True,
    )

    outcome = {sid: result for (sid, _), result in zip(calls, results, strict=True)}
    assert not [outcome[sid] for sid, _ in good if isinstance(outcome[sid], BaseException)]
    failed = {sid for sid, _ in bad if isinstance(outcome[sid], BaseException)}
    storable = {sid for sid, title in bad if "\x00" in title and backend == "sqlite"}
    assert failed == {sid for sid, _ in bad} - storable
    async with db() as s:
        stored = set((await s.execute(select(RecordedSession.id))).scalars())
    assert stored == {sid for sid, _ in good} | storable


async def test_every_hello_fails_when_the_database_is_unusable(
    backend: str, tmp_path: Path
) -> None:
    # Nobody's item is at fault: the group is not split, every caller gets the error.
    url = {
        "sqlite": f"sqlite+aiosqlite:///{tmp_path}/empty.db",  # no tables
        "postgres": "postgresql+asyncpg://nobody@127.0.0.1:9/none",  # port 9: nothing
    }[backend]
    engine = create_async_engine(url)
    try:
        catalog = Catalog(make_session_factory(engine))
        sids = [str(uuid.uuid4()) for _ in range(30)]
        calls = [catalog.open_session(1, hello("pk_x", sid), UA, 1) for sid in sids]
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    finally:
        await engine.dispose()
    # Retryable for the recorder (1013), with the database's error as the cause.
    assert all(isinstance(r, Unavailable) for r in results), results
    assert all(isinstance(r.__cause__, OSError | OperationalError) for r in results), results
