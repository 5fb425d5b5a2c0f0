"""Session rows (ingest/session_rows.py): a group of hellos in one transaction
opens each session once with its visit metadata, adds page views, updates a
title, keeps a stored session's cursor, and refuses another site's sid alone;
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from replay_server.db.engine import SessionFactory
from replay_server.db.models import PageView, RecordedSession
from replay_server.enrich.visitmeta import VisitOrigin
from replay_server.errors import Forbidden
from replay_server.ingest.session_rows import OpenRequest, SessionCursor, open_sessions
from tests.conftest import BOTH_DATABASES, Tenant
from tests.ingest.test_catalog import UA, hello
from tests.rrweb_events import now_ms

pytestmark = BOTH_DATABASES


def request(tenant: Tenant, sid: str, page: int = 0, title: str = "Home") -> OpenRequest:
    return OpenRequest(
        tenant.site_id,
        hello(tenant.site_key, sid, page, title),
        UA,
        now_ms(),
        VisitOrigin(country="DE", ip="192.0.2.0"),
    )


async def test_a_group_opens_sessions_and_page_views(db: SessionFactory, tenant: Tenant) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    requests = [request(tenant, a), request(tenant, a, 1, "Cart"), request(tenant, b)]
    async with db() as s, s.begin():
        results = await open_sessions(s, requests)
    assert [r for r in results if not isinstance(r, SessionCursor)] == []
    assert {r.chunked_seq for r in results if isinstance(r, SessionCursor)} == {-1}
    async with db() as s:
        session = await s.get(RecordedSession, a)
        cart = await s.get(PageView, (a, 1))
    assert session is not None and session.page_count == 2
    assert (session.country, session.ip, session.browser) == ("DE", "192.0.2.0", "Chrome")
    assert session.exit_url == "https://shop.test/p1?utm_source=ad"
    assert session.utm_source == "ad" and session.referrer_domain == "ref.test"
    assert cart is not None and (cart.title, cart.path) == ("Cart", "/p1")


async def test_a_later_hello_keeps_the_cursor_and_updates_the_title(
    db: SessionFactory, tenant: Tenant
) -> None:
    sid = str(uuid.uuid4())
    async with db() as s, s.begin():
        await open_sessions(s, [request(tenant, sid)])
    async with db() as s, s.begin():
        row = await s.get(RecordedSession, sid)
        assert row is not None
        row.chunked_seq, row.ended_ms = 7, now_ms()
    async with db() as s, s.begin():
        [cursor] = await open_sessions(s, [request(tenant, sid, title="Home (2 items)")])
    assert isinstance(cursor, SessionCursor) and cursor.chunked_seq == 7
    async with db() as s:
        row = await s.get(RecordedSession, sid)
        view = await s.get(PageView, (sid, 0))
    assert row is not None and row.ended_ms is None and row.page_count == 1  # reopened
    assert view is not None and view.title == "Home (2 items)"


async def test_another_sites_sid_is_refused_alone(
    db: SessionFactory, tenant: Tenant, other_tenant: Tenant
) -> None:
    sid, mine = str(uuid.uuid4()), str(uuid.uuid4())
    async with db() as s, s.begin():
        await open_sessions(s, [request(other_tenant, sid)])
    async with db() as s, s.begin():
        refused, opened = await open_sessions(s, [request(tenant, sid), request(tenant, mine)])
    assert isinstance(refused, Forbidden) and refused.code == "session_site_mismatch"
    assert isinstance(opened, SessionCursor)
    async with db() as s:
        theirs = await s.get(RecordedSession, sid)
    assert theirs is not None and theirs.site_id == other_tenant.site_id
