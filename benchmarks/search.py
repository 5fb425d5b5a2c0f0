"""Session search benchmark (issue 4).

Seeds a database with N sessions (default 1,000,000) and ~5 page views each
(benchmarks/search_seed.py: many sites of Zipf size, long-tail URLs), then
serves it with `create_app` on a real port and times the session-search API
over HTTP with an API token. Prints p50/p95 per query type. SQLite always;
PostgreSQL too with `--postgres URL` (a server URL: a fresh database is
created on it and dropped afterwards unless --keep).

    .venv/bin/python benchmarks/search.py --sessions 1000000
    .venv/bin/python benchmarks/search.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

`--keep` keeps the seeded PostgreSQL database; `--reuse NAME` measures a kept
one again (migrated to the current head first; same --sessions/--sites/--seed
as when it was seeded), skipping the seeding.

Half of the requests of each type go to the biggest site (~18% of all
sessions), the other half to sites drawn by traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.search_seed import (  # noqa: E402
    CATEGORIES,
    DAY_MS,
    PAGE_COLUMNS,
    SESSION_COLUMNS,
    Generator,
    Samples,
    batches,
    percentile,
    site_sizes,
)
from replay_server.accounts import orgs as accounts  # noqa: E402
from replay_server.app import create_app  # noqa: E402
from replay_server.db.engine import make_engine, make_session_factory  # noqa: E402
from replay_server.db.migrate import upgrade  # noqa: E402
from replay_server.db.search_ddl import (  # noqa: E402
    POSTGRES_URL_REFILL,
    SQLITE_FTS_REFILL,
)
from replay_server.settings import Settings  # noqa: E402
from tests.procs import free_port  # noqa: E402

TARGET_P95_MS = 50.0
Params = dict[str, str]


@dataclass
class Loaded:
    database_url: str
    samples: Samples
    sizes: list[int]
    now: int
    seconds: float


async def create_accounts(database_url: str, sites: int) -> str:
    """One organisation owning every site, a user and an API token."""
    engine = make_engine(database_url)
    try:
        factory = make_session_factory(engine)
        async with factory() as db:
            org = await accounts.ensure_organisation(db, "Bench")
            await accounts.create_user(
                db, "bench@example.com", "bench-password-1", org_id=org.id, role="owner"
            )
            for n in range(1, sites + 1):
                await accounts.create_site(db, org.id, f"Shop {n}", [f"https://shop{n}.example"])
            token, _ = await accounts.create_api_token(db, "bench@example.com")
            await db.commit()
        return token
    finally:
        await engine.dispose()


def load_sqlite(path: Path, gen: Generator, sessions: int, sites: int) -> None:
    """executemany in large transactions with the search indexes and FTS
    triggers dropped, then indexes recreated and the FTS index rebuilt."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    ddl = con.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        "AND tbl_name IN ('sessions', 'page_views') AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _ in ddl:
        con.execute(f"DROP {kind.upper()} {name}")
    s_sql = _insert_sql("sessions", SESSION_COLUMNS)
    p_sql = _insert_sql("page_views", PAGE_COLUMNS)
    for rows, views in batches(gen, sessions, sites):
        with con:
            con.executemany(s_sql, rows)
            con.executemany(p_sql, views)
    step("sqlite rows loaded")
    for _, _, sql in sorted(ddl, key=lambda d: d[0]):  # indexes before triggers
        con.execute(sql)
    step("sqlite indexes built")
    for sql in SQLITE_FTS_REFILL:
        con.execute(sql)
    con.commit()
    step("sqlite FTS5 trigram index built")
    con.execute("ANALYZE")
    con.commit()
    con.close()


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


async def load_postgres(url: str, gen: Generator, sessions: int, sites: int) -> None:
    """COPY with the secondary indexes dropped and triggers off (foreign keys,
    the URL dictionary's), then indexes rebuilt in parallel, the URL
    dictionary filled, and ANALYZE."""
    con = await asyncpg.connect(_plain(url))
    try:
        ddl = await con.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('sessions', 'page_views', 'page_urls') AND indexname NOT LIKE 'pk\\_%'"
        )
        for row in ddl:
            await con.execute(f'DROP INDEX "{row["indexname"]}"')
        await con.execute("SET session_replication_role = replica")
        for rows, views in batches(gen, sessions, sites):
            await con.copy_records_to_table("sessions", records=rows, columns=SESSION_COLUMNS)
            await con.copy_records_to_table("page_views", records=views, columns=PAGE_COLUMNS)
        step("postgres rows loaded")
        for sql in POSTGRES_URL_REFILL:  # its trigger was off during COPY
            await con.execute(sql)
        step("postgres URL dictionary (page_urls) filled")
        await con.execute("SET maintenance_work_mem = '1GB'")
        await con.execute("SET max_parallel_maintenance_workers = 2")
        for row in ddl:
            await con.execute(row["indexdef"])
        step("postgres indexes built (b-tree and pg_trgm GIN)")
        await con.execute("VACUUM ANALYZE sessions")
        await con.execute("VACUUM ANALYZE page_views")
        await con.execute("VACUUM ANALYZE page_urls")
    finally:
        await con.close()


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_T0 = time.monotonic()


def step(message: str) -> None:
    print(f"  [{time.monotonic() - _T0:7.1f} s] {message}", flush=True)


def query_types(loaded: Loaded, rng: random.Random) -> dict[str, Callable[[], tuple[int, Params]]]:
    sizes = loaded.sizes
    site_ids = list(range(1, len(sizes) + 1))

    def site() -> int:
        return 1 if rng.random() < 0.5 else rng.choices(site_ids, sizes)[0]

    def window() -> Params:
        start = loaded.now - rng.randrange(7, 80) * DAY_MS
        return {"from": str(start), "to": str(start + 7 * DAY_MS)}

    def substring() -> tuple[int, Params]:
        s = site()
        return s, {"url": rng.choice(loaded.samples.product_words[s])}

    def common() -> tuple[int, Params]:
        return site(), {"url": rng.choice(["checkout", "cart", "search?q="])}

    def prefix() -> tuple[int, Params]:
        path = rng.choice(["/checkout", "/products/" + rng.choice(CATEGORIES), "/blog/"])
        return site(), {"url": path, "url_match": "prefix", **window()}

    def browser_country() -> tuple[int, Params]:
        return site(), {
            "browser": rng.choice(["Chrome", "Mobile Safari", "Firefox", "Edge"]),
            "country": rng.choice(["DE", "US", "FR", "AT"]),
            "min_duration": str(rng.choice([30, 60, 300])),
        }

    def visitor() -> tuple[int, Params]:
        s = site()
        return s, {"visitor": rng.choice(loaded.samples.visitors[s])}

    return {
        "URL substring (product words)": substring,
        "URL substring (common: checkout, cart)": common,
        "URL prefix + 7-day range": prefix,
        "browser + country + min duration": browser_country,
        "visitor id": visitor,
        "has rage clicks": lambda: (site(), {"has_rage_clicks": "true"}),
        "unfiltered first page": lambda: (site(), {}),
    }


async def measure(
    loaded: Loaded, data_dir: Path, token: str, requests: int, show_slow: float = 0.0
) -> list[str]:
    settings = Settings(data_dir=data_dir, database_url=loaded.database_url)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    lines = []
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=headers) as http:
            for name, make in query_types(loaded, rng).items():
                timings, found = [], 0
                for i in range(requests + 3):
                    site_id, params = make()
                    started = time.perf_counter()
                    async with http.get(f"/api/v1/sites/{site_id}/sessions", params=params) as r:
                        body = await r.json()
                        assert r.status == 200, body
                    elapsed = (time.perf_counter() - started) * 1000
                    if i >= 3:  # the first few warm caches and connections
                        timings.append(elapsed)
                        if show_slow and elapsed > show_slow:
                            print(f"    slow: {elapsed:6.1f} ms site {site_id} {params}")
                        found += len(body["sessions"])
                p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
                verdict = "ok" if p95 <= TARGET_P95_MS else "OVER TARGET"
                lines.append(
                    f"  {name:<40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                    f"avg rows {found / len(timings):5.1f}  {verdict}"
                )
                print(lines[-1], flush=True)
    finally:
        await runner.cleanup()
    return lines


async def new_token(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as db:
            token, _ = await accounts.create_api_token(db, "bench@example.com")
            await db.commit()
        return token
    finally:
        await engine.dispose()


async def reuse_backend(database_url: str, data_dir: Path, args: argparse.Namespace) -> list[str]:
    """A kept database: migrated to head, the query samples regenerated from the
    seed (the rows are not written again), `now` taken from the newest session."""
    print(f"== postgresql: reusing {make_url(database_url).database}", flush=True)
    await asyncio.to_thread(upgrade, database_url)
    con = await asyncpg.connect(_plain(database_url))
    try:
        now = int(await con.fetchval("SELECT max(started_ms) FROM sessions")) + 1000
        await con.execute("ANALYZE")
    finally:
        await con.close()
    gen = Generator(args.seed, now)
    for _ in batches(gen, args.sessions, args.sites):
        pass
    loaded = Loaded(database_url, gen.samples, site_sizes(args.sessions, args.sites), now, 0.0)
    token = await new_token(database_url)
    lines = await measure(loaded, data_dir, token, args.requests, args.show_slow)
    return [f"postgresql (reused): {args.sessions:,} sessions", *lines]


async def run_backend(
    name: str, database_url: str, data_dir: Path, args: argparse.Namespace
) -> list[str]:
    print(f"== {name}: seeding {args.sessions:,} sessions over {args.sites} sites", flush=True)
    started = time.monotonic()
    await asyncio.to_thread(upgrade, database_url)
    token = await create_accounts(database_url, args.sites)
    now = int(time.time() * 1000)
    gen = Generator(args.seed, now)
    if name == "sqlite":
        path = Path(make_url(database_url).database or "")
        await asyncio.to_thread(load_sqlite, path, gen, args.sessions, args.sites)
    else:
        await load_postgres(database_url, gen, args.sessions, args.sites)
    loaded = Loaded(
        database_url, gen.samples, site_sizes(args.sessions, args.sites), now,
        time.monotonic() - started,
    )  # fmt: skip
    pages = await count_pages(name, database_url)
    print(f"  seeded {args.sessions:,} sessions, {pages:,} page views in {loaded.seconds:.0f} s")
    print(f"== {name}: {args.requests} requests per query type", flush=True)
    lines = await measure(loaded, data_dir, token, args.requests, args.show_slow)
    return [f"{name}: {args.sessions:,} sessions, {pages:,} page views, seeded in "
            f"{loaded.seconds:.0f} s", *lines]  # fmt: skip


async def count_pages(name: str, database_url: str) -> int:
    if name == "sqlite":
        con = sqlite3.connect(make_url(database_url).database or "")
        try:
            return int(con.execute("SELECT count(*) FROM page_views").fetchone()[0])
        finally:
            con.close()
    con = await asyncpg.connect(_plain(database_url))
    try:
        return int(await con.fetchval("SELECT count(*) FROM page_views"))
    finally:
        await con.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per query type")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres", default="", help="PostgreSQL server URL (a database is created on it)"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument("--reuse", default="", help="measure this kept PostgreSQL database")
    parser.add_argument(
        "--show-slow", type=float, default=0.0, help="print requests slower than this (ms)"
    )
    parser.add_argument("--data-dir", default="", help="an empty directory to keep data in")
    args = parser.parse_args()
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="search-bench-") as scratch:
        tmp = args.data_dir or scratch
        if not args.skip_sqlite:
            data_dir = Path(tmp) / "sqlite"
            data_dir.mkdir()
            url = f"sqlite+aiosqlite:///{data_dir / 'replay.db'}"
            summary += await run_backend("sqlite", url, data_dir, args)
        if args.postgres and args.reuse:
            kept = make_url(args.postgres).set(drivername="postgresql+asyncpg", database=args.reuse)
            data_dir = Path(tmp) / "postgres"
            data_dir.mkdir()
            url_text = kept.render_as_string(hide_password=False)
            summary += await reuse_backend(url_text, data_dir, args)
        elif args.postgres:
            name = f"search_bench_{secrets.token_hex(4)}"
            admin = await asyncpg.connect(_plain(args.postgres))
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.postgres).set(drivername="postgresql+asyncpg", database=name)
                data_dir = Path(tmp) / "postgres"
                data_dir.mkdir()
                summary += await run_backend(
                    "postgresql", url.render_as_string(hide_password=False), data_dir, args
                )
            finally:
                if not args.keep:
                    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                else:
                    print(f"kept database {name}")
                await admin.close()
        if args.keep and not args.skip_sqlite and not args.data_dir:
            print("the SQLite database goes with the temporary directory: use --data-dir")
    print(f"\n== summary ({os.cpu_count()} CPUs, target p95 <= {TARGET_P95_MS:.0f} ms)")
    print("\n".join(summary))


if __name__ == "__main__":
    asyncio.run(main())
