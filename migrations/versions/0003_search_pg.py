"""session search on PostgreSQL: a per-site dictionary of distinct page URLs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:00:00

PostgreSQL only (SQLite's FTS5 index already meets the target: a no-op there).
A URL substring search ran pg_trgm over every page view of a site: trigrams
are lossy, so thousands of candidate rows were rechecked, each one a random
read of the wide page_views heap. Most page views repeat a URL of their site,
so the trigram search now runs over `page_urls` (site_id, url, path), one row
per distinct URL of a site (~12,600 for 1M page views); the page views of the
matching URLs are then found through the existing b-tree indexes, by path
(index-only, ix_page_views_site_path) where every URL of that path matches,
by URL (ix_page_views_site_url) otherwise (db/search.py).

Triggers keep the dictionary in step with page_views (db/search_ddl.py):
every inserted or updated page view adds its URL; a delete removes URLs that
no page view uses any more (erasure must not leave URLs behind). Shared /
exclusive transaction advisory locks per (site, URL) make the removal safe
against a concurrent insert of the same URL: the remover waits for such
inserts to commit and checks again with a fresh snapshot.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Must stay identical to db/search_ddl.url_rest_sql("postgresql"), or the
# planner will not match the index to the search's expression.
_REST = (
    "CASE WHEN strpos(url, '://') = 0 THEN url "
    "WHEN strpos(substr(url, strpos(url, '://') + 3), '/') = 0 THEN '' "
    "ELSE substr(substr(url, strpos(url, '://') + 3), "
    "strpos(substr(url, strpos(url, '://') + 3), '/')) END"
)
_LOCK_KEY = "hashtext({r}.site_id::text || ' ' || {r}.url)"
_UPGRADE = [
    # path_in_rest: the path is part of what substring search looks at (not so
    # for odd URLs, e.g. no path at all: path '/', rest ''). When every URL of
    # a path has it, a term found in the path matches all of them.
    "CREATE TABLE page_urls (site_id integer NOT NULL, url text NOT NULL, "
    f"path text NOT NULL, path_in_rest boolean GENERATED ALWAYS AS "
    f"(strpos({_REST}, path) > 0) STORED, "
    "CONSTRAINT pk_page_urls PRIMARY KEY (site_id, url))",
    "INSERT INTO page_urls (site_id, url, path) "
    "SELECT DISTINCT ON (site_id, url) site_id, url, path FROM page_views",
    f"CREATE INDEX ix_page_urls_trgm ON page_urls USING gin (site_id, ({_REST}) gin_trgm_ops)",
    "CREATE INDEX ix_page_urls_odd_paths ON page_urls (site_id, path) WHERE NOT path_in_rest",
    "ANALYZE page_urls",
    # Row-level: an ingest transaction inserts a few page views at a time.
    "CREATE FUNCTION page_urls_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"PERFORM pg_advisory_xact_lock_shared({_LOCK_KEY.format(r='NEW')}); "
    "INSERT INTO page_urls AS d (site_id, url, path) VALUES (NEW.site_id, NEW.url, NEW.path) "
    "ON CONFLICT (site_id, url) DO UPDATE SET path = EXCLUDED.path "
    "WHERE d.path IS DISTINCT FROM EXCLUDED.path; RETURN NULL; END $$",
    "CREATE TRIGGER page_urls_ai AFTER INSERT OR UPDATE OF site_id, url, path ON page_views "
    "FOR EACH ROW EXECUTE FUNCTION page_urls_add()",
    # Statement-level over the deleted rows (retention and erasure delete in
    # bulk): only URLs no visible page view uses any more are locked and then
    # checked again, so hot URLs never block ingest.
    "CREATE FUNCTION page_urls_prune() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE r record; BEGIN "
    "FOR r IN SELECT DISTINCT o.site_id, o.url FROM gone AS o WHERE NOT EXISTS "
    "(SELECT 1 FROM page_views AS p WHERE p.site_id = o.site_id AND p.url = o.url) "
    "ORDER BY o.site_id, o.url LOOP "
    f"PERFORM pg_advisory_xact_lock({_LOCK_KEY.format(r='r')}); "
    "DELETE FROM page_urls AS d WHERE d.site_id = r.site_id AND d.url = r.url "
    "AND NOT EXISTS (SELECT 1 FROM page_views AS p WHERE p.site_id = r.site_id "
    "AND p.url = r.url); END LOOP; RETURN NULL; END $$",
    "CREATE TRIGGER page_urls_ad AFTER DELETE ON page_views REFERENCING OLD TABLE AS gone "
    "FOR EACH STATEMENT EXECUTE FUNCTION page_urls_prune()",
]
_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS page_urls_ad ON page_views",
    "DROP TRIGGER IF EXISTS page_urls_ai ON page_views",
    "DROP FUNCTION IF EXISTS page_urls_prune()",
    "DROP FUNCTION IF EXISTS page_urls_add()",
    "DROP TABLE IF EXISTS page_urls",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWNGRADE:
            op.execute(statement)
