"""Organisation scoping, in one place. Every read of sites, sessions, page views
and chunks on behalf of a user goes through these functions, which only ever see
the principal's organisations. An id that belongs to another organisation is
NotFound, exactly like an id that does not exist: no existence leak."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.models import Chunk, Organisation, PageView, RecordedSession, Site
from replay_server.db.principal import Principal
from replay_server.db.roles import Role, require_role
from replay_server.db.search import (
    DEFAULT_SESSION_LIMIT,
    MAX_SESSION_LIMIT,
    SessionCursor,
    SessionPage,
    SessionQuery,
    search_sessions,
)
from replay_server.errors import NotFound
from replay_server.timeutil import now_ms as time_ms

__all__ = [  # the session search types, re-exported for callers of scope
    "DEFAULT_SESSION_LIMIT",
    "MAX_SESSION_LIMIT",
    "SessionCursor",
    "SessionPage",
    "SessionQuery",
]


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


async def get_site(
    db: AsyncSession, principal: Principal, site_id: int, *, role: Role = "viewer"
) -> Site:
    """The site, if one of the principal's organisations owns it (else NotFound)
    and the principal holds `role` there (else Forbidden)."""
    site = await db.scalar(
        select(Site).where(Site.id == site_id, Site.org_id.in_(principal.org_ids))
    )
    if site is None:
        raise NotFound("site not found")
    require_role(principal, site.org_id, role, what="site")
    return site


async def list_sessions(
    db: AsyncSession,
    principal: Principal,
    site_id: int,
    query: SessionQuery,
    *,
    now_ms: int | None = None,
) -> SessionPage:
    """One keyset page of a visible site's sessions matching `query` (db/search.py)."""
    await get_site(db, principal, site_id)
    return await search_sessions(db, site_id, query, time_ms() if now_ms is None else now_ms)


async def get_session(
    db: AsyncSession, principal: Principal, session_id: str, *, role: Role = "viewer"
) -> RecordedSession:
    """The session, if it belongs to a site of the principal's organisations (else
    NotFound) and the principal holds `role` there (else Forbidden; deleting
    asks for role="admin")."""
    if "\x00" in session_id:  # from a URL path; PostgreSQL refuses NUL in text
        raise NotFound("session not found")
    session = await db.scalar(
        select(RecordedSession).where(
            RecordedSession.id == session_id,
            RecordedSession.site_id.in_(_visible_site_ids(principal)),
        )
    )
    if session is None:
        raise NotFound("session not found")
    if role != "viewer":
        org_id = await db.scalar(select(Site.org_id).where(Site.id == session.site_id))
        require_role(principal, -1 if org_id is None else org_id, role, what="session")
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


@dataclass(frozen=True)
class ChunkSpan:
    """Where one stored chunk sits in a session: its page and event-time span.
    The player plans its progressive download from these."""

    idx: int
    page: int
    first_ts: int
    last_ts: int
    events: int
    raw_bytes: int
    has_full_snapshot: bool


async def list_chunks(db: AsyncSession, principal: Principal, session_id: str) -> list[ChunkSpan]:
    rows = await db.execute(
        select(
            Chunk.idx,
            Chunk.page,
            Chunk.first_ts,
            Chunk.last_ts,
            Chunk.event_count,
            Chunk.raw_bytes,
            Chunk.has_full_snapshot,
        )
        .join(RecordedSession, RecordedSession.id == Chunk.session_id)
        .where(
            Chunk.session_id == session_id,
            RecordedSession.site_id.in_(_visible_site_ids(principal)),
        )
        .order_by(Chunk.first_ts, Chunk.idx)
    )
    return [
        ChunkSpan(int(i), int(p), int(f), int(last), int(n), int(raw), bool(full))
        for i, p, f, last, n, raw, full in rows
    ]


@dataclass(frozen=True)
class OrgWithRole:
    id: int
    name: str
    role: str


async def list_organisations(db: AsyncSession, principal: Principal) -> list[OrgWithRole]:
    """The principal's organisations, by name, with the principal's role in each."""
    rows = await db.scalars(
        select(Organisation)
        .where(Organisation.id.in_(principal.org_ids))
        .order_by(Organisation.name, Organisation.id)
    )
    return [OrgWithRole(o.id, o.name, principal.memberships[o.id]) for o in rows]


async def get_organisation(
    db: AsyncSession, principal: Principal, org_id: int, *, role: Role = "viewer"
) -> Organisation:
    """The organisation, if the principal belongs to it (else NotFound) with at
    least `role` (else Forbidden)."""
    require_role(principal, org_id, role)
    org = await db.get(Organisation, org_id)
    if org is None:
        raise NotFound("organisation not found")
    return org


async def visitor_session_ids(
    db: AsyncSession, principal: Principal, site_id: int, visitor_id: str, *, role: Role
) -> list[str]:
    """Ids of every session of one visitor on a visible site (deleting asks for
    role="admin"). Visitor ids are per site: the same id on another site is
    another visitor and is never matched."""
    await get_site(db, principal, site_id, role=role)
    rows = await db.scalars(
        select(RecordedSession.id).where(
            RecordedSession.site_id == site_id, RecordedSession.visitor_id == visitor_id
        )
    )
    return list(rows.all())
