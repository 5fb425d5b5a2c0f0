"""Organisation scoping, in one place. Every read of sites, sessions, page views
and chunks on behalf of a user goes through these functions, which only ever see
the principal's organisations. An id that belongs to another organisation is
NotFound, exactly like an id that does not exist: no existence leak."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..errors import InvalidMessage, NotFound
from .models import Chunk, PageView, RecordedSession, Site

DEFAULT_SESSION_LIMIT = 50
MAX_SESSION_LIMIT = 200


@dataclass(frozen=True)
class SessionCursor:
    """Keyset position: the (started_ms, id) of the last session of a page."""

    started_ms: int
    id: str

    def encode(self) -> str:
        raw = f"{self.started_ms}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> SessionCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            started, sep, session_id = raw.partition(":")
            if not sep or not session_id:
                raise ValueError("no separator")
            return cls(int(started), session_id)
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise InvalidMessage("invalid cursor", code="invalid_parameter") from e


@dataclass(frozen=True)
class SessionQuery:
    url: str = ""  # case-insensitive substring of any page view's URL
    limit: int = DEFAULT_SESSION_LIMIT
    cursor: SessionCursor | None = None


@dataclass(frozen=True)
class SessionPage:
    sessions: list[RecordedSession]
    next_cursor: str | None


@dataclass(frozen=True)
class SiteWithCount:
    site: Site
    session_count: int


@dataclass(frozen=True)
class ChunkSummary:
    count: int
    raw_bytes: int
    stored_bytes: int


def _visible_site_ids(principal: Principal) -> Select[int]:
    return select(Site.id).where(Site.org_id.in_(principal.org_ids))


async def list_sites(db: AsyncSession, principal: Principal) -> list[SiteWithCount]:
    rows = await db.execute(
        select(Site, func.count(RecordedSession.id))
        .outerjoin(RecordedSession, RecordedSession.site_id == Site.id)
        .where(Site.org_id.in_(principal.org_ids))
        .group_by(Site.id)
        .order_by(Site.name, Site.id)
    )
    return [SiteWithCount(site, count) for site, count in rows]


async def get_site(db: AsyncSession, principal: Principal, site_id: int) -> Site:
    site = await db.scalar(
        select(Site).where(Site.id == site_id, Site.org_id.in_(principal.org_ids))
    )
    if site is None:
        raise NotFound("site not found")
    return site


async def list_sessions(
    db: AsyncSession, principal: Principal, site_id: int, query: SessionQuery
) -> SessionPage:
    """Newest first (started_ms, then id, descending), one keyset page."""
    await get_site(db, principal, site_id)
    stmt = select(RecordedSession).where(RecordedSession.site_id == site_id)
    if query.url:
        stmt = stmt.where(
            exists().where(
                PageView.session_id == RecordedSession.id,
                PageView.site_id == site_id,
                PageView.url.icontains(query.url, autoescape=True),
            )
        )
    if query.cursor is not None:
        c = query.cursor
        stmt = stmt.where(
            or_(
                RecordedSession.started_ms < c.started_ms,
                and_(RecordedSession.started_ms == c.started_ms, RecordedSession.id < c.id),
            )
        )
    stmt = stmt.order_by(RecordedSession.started_ms.desc(), RecordedSession.id.desc())
    rows = list((await db.scalars(stmt.limit(query.limit + 1))).all())
    sessions = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        last = sessions[-1]
        next_cursor = SessionCursor(last.started_ms, last.id).encode()
    return SessionPage(sessions, next_cursor)


async def get_session(db: AsyncSession, principal: Principal, session_id: str) -> RecordedSession:
    session = await db.scalar(
        select(RecordedSession).where(
            RecordedSession.id == session_id,
            RecordedSession.site_id.in_(_visible_site_ids(principal)),
        )
    )
    if session is None:
        raise NotFound("session not found")
    return session


async def list_page_views(
    db: AsyncSession, principal: Principal, session_id: str
) -> list[PageView]:
    rows = await db.scalars(
        select(PageView)
        .where(
            PageView.session_id == session_id,
            PageView.site_id.in_(_visible_site_ids(principal)),
        )
        .order_by(PageView.page)
    )
    return list(rows.all())


async def chunk_summary(db: AsyncSession, principal: Principal, session_id: str) -> ChunkSummary:
    row = (
        await db.execute(
            select(
                func.count(Chunk.idx),
                func.coalesce(func.sum(Chunk.raw_bytes), 0),
                func.coalesce(func.sum(Chunk.stored_bytes), 0),
            )
            .join(RecordedSession, RecordedSession.id == Chunk.session_id)
            .where(
                Chunk.session_id == session_id,
                RecordedSession.site_id.in_(_visible_site_ids(principal)),
            )
        )
    ).one()
    return ChunkSummary(count=int(row[0]), raw_bytes=int(row[1]), stored_bytes=int(row[2]))
