"""The dialect-specific URL search objects that migration 0002 creates outside
the SQLAlchemy models, and the SQL the search uses to hit them.

Substring search covers a page URL's path, query and fragment ("the rest":
everything after scheme://host). The host is left out of the index on purpose:
its trigrams are in every URL of a site, so indexing them makes every search
read huge posting lists; and the site is already fixed by the search.

- SQLite: a contentless FTS5 trigram table `page_views_fts`, kept in sync by
  triggers. Its rowid is `site_id * 2**32 + page_views.rowid`, so a search
  restricted to one site reads only that site's part of each posting list
  (FTS5 seeks by rowid range). A VACUUM may renumber page_views' rowids: after
  one, run the statements of SQLITE_FTS_REFILL.
- PostgreSQL: a GIN index on (site_id, the `rest` expression with pg_trgm's
  gin_trgm_ops; btree_gin for site_id), so one site's search rechecks only
  that site's rows; queries must use exactly the same expression
  (url_rest_sql) for the planner to match it.
- PostgreSQL, migration 0003: `page_urls` (site_id, url, path), one row per
  distinct URL of a site, kept in step with page_views by triggers, with the
  same pg_trgm GIN over (site_id, rest) and a flag path_in_rest. A
  substring search matches the few thousand distinct URLs of a site instead
  of its million page views (whose rechecks were random reads of the
  page_views heap: page_url_lookup_sql), then finds their page views through
  the b-tree indexes of page_views.

Model-vs-schema comparisons (Alembic autogenerate, tests/db/test_migrate.py)
skip these objects (is_search_object): no model can describe them.
"""

from __future__ import annotations

FTS_TABLE = "page_views_fts"
TRGM_INDEX = "ix_page_views_url_trgm"
URL_TABLE = "page_urls"
URL_INDEXES = ("ix_page_urls_trgm", "ix_page_urls_odd_paths", "pk_page_urls")

_REST = (
    "CASE WHEN {pos}({col}, '://') = 0 THEN {col} "
    "WHEN {pos}(substr({col}, {pos}({col}, '://') + 3), '/') = 0 THEN '' "
    "ELSE substr(substr({col}, {pos}({col}, '://') + 3), "
    "{pos}(substr({col}, {pos}({col}, '://') + 3), '/')) END"
)


def url_rest_sql(dialect: str, column: str = "url") -> str:
    """SQL for the path, query and fragment of the URL in `column`."""
    return _REST.format(pos="strpos" if dialect == "postgresql" else "instr", col=column)


SITE_ROWID_SHIFT = 1 << 32  # page_views may hold up to 2**32 rows


def fts_rowid_sql(prefix: str = "") -> str:
    """The FTS rowid of a page_views row (`prefix`: "new.", "old." or "")."""
    return f"{prefix}site_id * {SITE_ROWID_SHIFT} + {prefix}rowid"


SQLITE_FTS_REFILL = [
    "INSERT INTO page_views_fts(page_views_fts) VALUES ('delete-all')",
    f"INSERT INTO page_views_fts(rowid, rest) SELECT {fts_rowid_sql()}, "
    f"{url_rest_sql('sqlite')} FROM page_views",
]


# Rows written with triggers off (a bulk load under session_replication_role
# = replica, e.g. benchmarks/search.py): fill the URL dictionary afterwards.
POSTGRES_URL_REFILL = [
    f"INSERT INTO {URL_TABLE} (site_id, url, path) SELECT DISTINCT ON (site_id, url) "
    "site_id, url, path FROM page_views ON CONFLICT DO NOTHING",
    f"ANALYZE {URL_TABLE}",
]


def url_rest(url: str) -> str:
    """The same as url_rest_sql, in Python (tests and brute-force checks)."""
    scheme = url.find("://")
    if scheme < 0:
        return url
    after = url[scheme + 3 :]
    slash = after.find("/")
    return "" if slash < 0 else after[slash:]


def page_url_lookup_sql(whole_url: bool) -> str:
    """PostgreSQL: the site's (:site) distinct URLs whose rest (or whole URL)
    matches the ILIKE :pattern (escape '/'), at most :n, each with its path and
    whether the path alone selects only matching URLs: the pattern matches the
    path, and every URL of the site with that path contains its path in its
    rest (path_in_rest; the rest is part of the whole URL). Such paths are
    looked up in the covering path index instead of URL by URL."""
    target = "u.url" if whole_url else url_rest_sql("postgresql", "u.url")
    return (
        "SELECT u.url, u.path, u.path ILIKE :pattern ESCAPE '/' AND NOT EXISTS ("
        f"SELECT 1 FROM {URL_TABLE} AS o WHERE o.site_id = :site AND o.path = u.path "
        f"AND NOT o.path_in_rest) FROM {URL_TABLE} AS u "
        f"WHERE u.site_id = :site AND ({target}) ILIKE :pattern ESCAPE '/' LIMIT :n"
    )


def is_search_object(name: str | None) -> bool:
    return bool(name) and (
        str(name).startswith(FTS_TABLE) or name in (TRGM_INDEX, URL_TABLE, *URL_INDEXES)
    )
