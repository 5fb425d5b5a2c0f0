"""session search: metadata, behaviour counts, search indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 06:40:00

Adds the columns session search filters on, b-tree indexes for every filter
and sort, and a substring index over page URLs: an FTS5 trigram table kept in
sync by triggers on SQLite, a pg_trgm GIN index on PostgreSQL. Existing rows
are backfilled: the browser version split off `browser`, the referrer domain,
the exit URL and each page view's path.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STR_COLUMNS = {
    "browser_version": sa.String(length=50),
    "country": sa.String(length=2),
    "ip": sa.String(length=45),
    "referrer_domain": sa.String(length=255),
    "utm_source": sa.String(length=200),
    "utm_medium": sa.String(length=200),
    "utm_campaign": sa.String(length=200),
    "utm_term": sa.String(length=200),
    "utm_content": sa.String(length=200),
    "exit_url": sa.Text(),
}
_INT_COLUMNS = {
    "click_count": sa.Integer(),
    "input_count": sa.Integer(),
    "rage_click_count": sa.Integer(),
    "dead_click_count": sa.Integer(),
    "error_count": sa.Integer(),
    "active_ms": sa.BigInteger(),
}
_EQUALITY_INDEXES = {
    "ix_sessions_site_browser": "browser",
    "ix_sessions_site_os": "os",
    "ix_sessions_site_device": "device",
    "ix_sessions_site_country": "country",
    "ix_sessions_site_referrer": "referrer_domain",
}
_PARTIAL_INDEXES = {
    "ix_sessions_site_rage": "rage_click_count > 0",
    "ix_sessions_site_dead": "dead_click_count > 0",
    "ix_sessions_site_errors": "error_count > 0",
}
# The path, query and fragment of a URL (everything after scheme://host): what
# substring search indexes. Must stay identical to db/search_ddl.url_rest_sql,
# or PostgreSQL will not match the index to the queries.
_REST = (
    "CASE WHEN {pos}({col}, '://') = 0 THEN {col} "
    "WHEN {pos}(substr({col}, {pos}({col}, '://') + 3), '/') = 0 THEN '' "
    "ELSE substr(substr({col}, {pos}({col}, '://') + 3), "
    "{pos}(substr({col}, {pos}({col}, '://') + 3), '/')) END"
)


def _rest(col: str, pos: str = "instr") -> str:
    return _REST.format(pos=pos, col=col)


# FTS rowid = site_id * 2**32 + page_views.rowid: a search within one site
# reads only that site's rowid range of each posting list.
_SHIFT = 1 << 32
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE page_views_fts USING fts5(rest, content='', tokenize='trigram')",
    "CREATE TRIGGER page_views_fts_ai AFTER INSERT ON page_views BEGIN "
    "INSERT INTO page_views_fts(rowid, rest) "
    f"VALUES (new.site_id * {_SHIFT} + new.rowid, {_rest('new.url')}); END",
    "CREATE TRIGGER page_views_fts_ad AFTER DELETE ON page_views BEGIN "
    "INSERT INTO page_views_fts(page_views_fts, rowid, rest) "
    f"VALUES ('delete', old.site_id * {_SHIFT} + old.rowid, {_rest('old.url')}); END",
    "CREATE TRIGGER page_views_fts_au AFTER UPDATE OF url, site_id ON page_views BEGIN "
    "INSERT INTO page_views_fts(page_views_fts, rowid, rest) "
    f"VALUES ('delete', old.site_id * {_SHIFT} + old.rowid, {_rest('old.url')}); "
    "INSERT INTO page_views_fts(rowid, rest) "
    f"VALUES (new.site_id * {_SHIFT} + new.rowid, {_rest('new.url')}); END",
    "INSERT INTO page_views_fts(rowid, rest) "
    f"SELECT site_id * {_SHIFT} + rowid, {_rest('url')} FROM page_views",
]
# GIN over (site_id, rest): a search within one site intersects the trigram
# posting lists with the site's, so it rechecks only that site's candidate rows.
_POSTGRES_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX ix_page_views_url_trgm ON page_views "
    f"USING gin (site_id, ({_rest('url', 'strpos')}) gin_trgm_ops)",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, type_ in _STR_COLUMNS.items():
        op.add_column("sessions", sa.Column(name, type_, nullable=False, server_default=""))
    for name, type_ in _INT_COLUMNS.items():
        op.add_column("sessions", sa.Column(name, type_, nullable=False, server_default="0"))
    op.add_column("page_views", sa.Column("path", sa.Text(), nullable=False, server_default=""))
    _backfill()
    op.create_index("ix_sessions_site_duration", "sessions", ["site_id", "duration_ms", "id"])
    op.create_index("ix_sessions_site_active", "sessions", ["site_id", "active_ms", "id"])
    for index, column in _EQUALITY_INDEXES.items():
        op.create_index(index, "sessions", ["site_id", column, "started_ms"])
    for index, where in _PARTIAL_INDEXES.items():
        op.create_index(
            index,
            "sessions",
            ["site_id", "started_ms"],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    op.create_index(
        "ix_page_views_site_path",
        "page_views",
        ["site_id", "path", "session_id"],
        postgresql_ops={"path": "text_pattern_ops"},
    )
    for statement in _SQLITE_FTS if dialect == "sqlite" else _POSTGRES_TRGM:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("page_views_fts_ai", "page_views_fts_ad", "page_views_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS page_views_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_page_views_url_trgm")
    op.drop_index("ix_page_views_site_path", table_name="page_views")
    for index in [*_PARTIAL_INDEXES, *_EQUALITY_INDEXES]:
        op.drop_index(index, table_name="sessions")
    op.drop_index("ix_sessions_site_active", table_name="sessions")
    op.drop_index("ix_sessions_site_duration", table_name="sessions")
    with op.batch_alter_table("page_views") as batch:
        batch.drop_column("path")
    with op.batch_alter_table("sessions") as batch:
        for name in [*_STR_COLUMNS, *_INT_COLUMNS]:
            batch.drop_column(name)


_VERSIONED = re.compile(r"^(.*\S) (\d+)$")


def _backfill() -> None:
    """Existing rows: browsers and referrers per distinct value (there are few),
    exit URLs and page paths in SQL."""
    bind = op.get_bind()
    for (browser,) in bind.execute(sa.text("SELECT DISTINCT browser FROM sessions")).all():
        match = _VERSIONED.match(browser or "")
        if match:
            bind.execute(
                sa.text(
                    "UPDATE sessions SET browser = :b, browser_version = :v WHERE browser = :o"
                ),
                {"b": match.group(1), "v": match.group(2), "o": browser},
            )
    for (referrer,) in bind.execute(sa.text("SELECT DISTINCT referrer FROM sessions")).all():
        domain = _domain(referrer or "")
        if domain:
            bind.execute(
                sa.text("UPDATE sessions SET referrer_domain = :d WHERE referrer = :r"),
                {"d": domain, "r": referrer},
            )
    bind.execute(
        sa.text(
            "UPDATE sessions SET exit_url = COALESCE((SELECT url FROM page_views "
            "WHERE page_views.session_id = sessions.id ORDER BY page DESC LIMIT 1), entry_url)"
        )
    )
    pos = "strpos" if bind.dialect.name == "postgresql" else "instr"
    rest = _rest("url", pos)
    before_query = f"substr(({rest}), 1, {pos}(({rest}) || '?', '?') - 1)"
    path = f"substr({before_query}, 1, {pos}({before_query} || '#', '#') - 1)"
    bind.execute(
        sa.text(f"UPDATE page_views SET path = CASE WHEN {path} = '' THEN '/' ELSE {path} END")
    )


def _domain(referrer: str) -> str:
    try:
        host = (urlsplit(referrer.strip()).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")[:255]
