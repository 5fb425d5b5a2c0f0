"""SQLAlchemy 2 models. Times are integer milliseconds since the Unix epoch
(UTC): the same on SQLite and PostgreSQL, sortable, and the unit rrweb uses."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from replay_server.db import rollup_tables  # noqa: F401  (registers the rollup tables)
from replay_server.db.base import Base


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    # How the user wants to be called (revision 0004); they edit it on /account.
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_used_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LoginSession(Base):
    """A dashboard login; the cookie holds the token, the table its hash."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class Invitation(Base):
    """A pending invitation to join an organisation (revision 0004). The link
    holds the token; the table only its SHA-256. Deleted when accepted or revoked."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class RecordedSession(Base):
    """One visitor's session on one site: the page views of a browser tab."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(36))
    started_ms: Mapped[int] = mapped_column(BigInteger)
    first_event_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_event_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    chunked_seq: Mapped[int] = mapped_column(BigInteger, default=-1)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    raw_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_url: Mapped[str] = mapped_column(Text, default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")
    browser: Mapped[str] = mapped_column(String(100), default="")
    os: Mapped[str] = mapped_column(String(100), default="")
    device: Mapped[str] = mapped_column(String(20), default="")
    viewport_w: Mapped[int | None] = mapped_column(Integer, nullable=True)
    viewport_h: Mapped[int | None] = mapped_column(Integer, nullable=True)
    screen_w: Mapped[int | None] = mapped_column(Integer, nullable=True)
    screen_h: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lang: Mapped[str] = mapped_column(String(50), default="")
    tz: Mapped[str] = mapped_column(String(100), default="")
    # Search metadata (revision 0002): see enrich/visitmeta.py and enrich/behaviour.py.
    browser_version: Mapped[str] = mapped_column(String(50), default="", server_default="")
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    ip: Mapped[str] = mapped_column(String(45), default="", server_default="")
    referrer_domain: Mapped[str] = mapped_column(String(255), default="", server_default="")
    utm_source: Mapped[str] = mapped_column(String(200), default="", server_default="")
    utm_medium: Mapped[str] = mapped_column(String(200), default="", server_default="")
    utm_campaign: Mapped[str] = mapped_column(String(200), default="", server_default="")
    utm_term: Mapped[str] = mapped_column(String(200), default="", server_default="")
    utm_content: Mapped[str] = mapped_column(String(200), default="", server_default="")
    exit_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    click_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    input_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rage_click_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dead_click_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Page views counted into the rollups so far (revision 0005): 1 makes a bounce.
    counted_pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_sessions_site_started", "site_id", "started_ms", "id"),
        Index("ix_sessions_site_visitor", "site_id", "visitor_id"),
        # Filters and sorts of the session search (db/search.py), each newest first.
        Index("ix_sessions_site_duration", "site_id", "duration_ms", "id"),
        Index("ix_sessions_site_active", "site_id", "active_ms", "id"),
        Index("ix_sessions_site_browser", "site_id", "browser", "started_ms"),
        Index("ix_sessions_site_os", "site_id", "os", "started_ms"),
        Index("ix_sessions_site_device", "site_id", "device", "started_ms"),
        Index("ix_sessions_site_country", "site_id", "country", "started_ms"),
        Index("ix_sessions_site_referrer", "site_id", "referrer_domain", "started_ms"),
        Index(
            "ix_sessions_site_rage",
            "site_id",
            "started_ms",
            sqlite_where=text("rage_click_count > 0"),
            postgresql_where=text("rage_click_count > 0"),
        ),
        Index(
            "ix_sessions_site_dead",
            "site_id",
            "started_ms",
            sqlite_where=text("dead_click_count > 0"),
            postgresql_where=text("dead_click_count > 0"),
        ),
        Index(
            "ix_sessions_site_errors",
            "site_id",
            "started_ms",
            sqlite_where=text("error_count > 0"),
            postgresql_where=text("error_count > 0"),
        ),
    )


class PageView(Base):
    __tablename__ = "page_views"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    started_ms: Mapped[int] = mapped_column(BigInteger)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    path: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Insights (revision 0005; insights/rollup.py): what the rollups have
    # counted of this page view so far, so that a later cut adds only the change.
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    event_first_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    event_last_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    time_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    scroll_px: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    page_height: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    scroll_pct: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1")
    viewport_w: Mapped[int | None] = mapped_column(Integer, nullable=True)
    viewport_h: Mapped[int | None] = mapped_column(Integer, nullable=True)

    # Substring search over `url` has a dialect-specific index that is not in
    # the models: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL (0002_search).
    __table_args__ = (
        Index("ix_page_views_site_url", "site_id", "url"),
        Index(  # covering: a path search reads no table rows
            "ix_page_views_site_path",
            "site_id",
            "path",
            "session_id",
            postgresql_ops={"path": "text_pattern_ops"},
        ),
    )


class Chunk(Base):
    """A compressed run of one page view's events, stored as one blob."""

    __tablename__ = "chunks"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    page: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(Text)
    format_version: Mapped[int] = mapped_column(Integer)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    first_ts: Mapped[int] = mapped_column(BigInteger)
    last_ts: Mapped[int] = mapped_column(BigInteger)
    event_count: Mapped[int] = mapped_column(Integer)
    raw_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    has_full_snapshot: Mapped[bool] = mapped_column(Boolean)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    # The site dictionary its blob was compressed with (revision 0006; 0: none).
    # Not a foreign key: retention deletes a dictionary only once no chunk names it.
    dictionary_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("session_id", "page", "first_seq", "first_ts"),
        # Whether any chunk still needs a dictionary; how many use the newest.
        Index(
            "ix_chunks_dictionary",
            "dictionary_id",
            sqlite_where=text("dictionary_id > 0"),
            postgresql_where=text("dictionary_id > 0"),
        ),
    )


class SiteDictionary(Base):
    """A zstd dictionary trained on a site's own chunks (chunks/dictionaries.py),
    revision 0006. Each training adds a row; new chunks use the site's newest."""

    __tablename__ = "chunk_dictionaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    sample_count: Mapped[int] = mapped_column(Integer)
    sample_bytes: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    # Ids are never reused on SQLite either (a chunk names its dictionary by id).
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012


# Core handles of the tables the ingest path writes in bulk (executemany).
SESSIONS = cast(Table, RecordedSession.__table__)
PAGE_VIEWS = cast(Table, PageView.__table__)
CHUNKS = cast(Table, Chunk.__table__)
DICTIONARIES = cast(Table, SiteDictionary.__table__)
