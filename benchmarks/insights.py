"""Insights benchmark (issue 16): report endpoints over HTTP, and what building
the rollups costs ingest.

Part 1 seeds 1,000,000 sessions / ~5,000,000 page views / ~20,000,000 clicks
(`--scale` times that): the search benchmark's sessions and page views
(benchmarks/search_seed.py), the columns ingest records for insights, one
chunk row per page view, and the rollup tables computed from the same
generated data (benchmarks/insights_seed.py). Then it serves the database
with `create_app` on a real port and times, with an API token, over the last
30 days of the biggest site (~18% of all sessions):

    GET /api/v1/sites/1/stats                      (also device=mobile, and
                                                    url=/checkout&url_match=prefix)
    GET /api/v1/sites/1/heatmap?url=/&kind=click&device=desktop   (and kind=scroll)

printing p50/p95 and the ratio of p95 to its target (stats <= 200 ms,
heatmap <= 150 ms). SQLite always (unless --skip-sqlite); PostgreSQL on
`--postgres URL` (default: $REPLAY_TEST_POSTGRES_URL), in a database of its
own. Seeded databases are cached (SQLite file and PostgreSQL database named
after scale and seed, see --cache-dir) and reused, migrated to the current
head, unless --fresh; `--drop` removes the PostgreSQL one afterwards.

Part 2 (`--ingest`): the ingest load benchmark (benchmarks/ingest_load.py,
2,000 recorders) against `replay-server serve` with REPLAY_INSIGHTS=on and
=off in the same run, printing the server's CPU seconds (server and worker
processes) for each, their ratio (target <= 1.10), and the load's own targets.

    .venv/bin/python benchmarks/insights.py --scale 0.01 --requests 20   # quick
    .venv/bin/python benchmarks/insights.py                              # 1M sessions
    .venv/bin/python benchmarks/insights.py --skip-sqlite --skip-postgres --ingest
    .venv/bin/python benchmarks/insights.py --explain   # the slowest SQL of each request type
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.insights_seed import (  # noqa: E402
    TABLES,
    InsightSimulator,
    Row,
    insight_batches,
)
from benchmarks.search import step  # noqa: E402
from benchmarks.search_seed import DAY_MS, Generator, percentile  # noqa: E402
from replay_server.accounts import orgs as accounts  # noqa: E402
from replay_server.app import create_app  # noqa: E402
from replay_server.db.engine import make_engine, make_session_factory  # noqa: E402
from replay_server.db.migrate import upgrade  # noqa: E402
from replay_server.db.models import Base  # noqa: E402
from replay_server.db.search_ddl import POSTGRES_URL_REFILL, SQLITE_FTS_REFILL  # noqa: E402
from replay_server.settings import Settings  # noqa: E402
from tests.procs import free_port  # noqa: E402

STATS_P95_MS = 200.0
HEATMAP_P95_MS = 150.0
CPU_RATIO_TARGET = 1.10
SESSIONS_AT_SCALE_1 = 1_000_000
BIGGEST = 1  # site 1 is the biggest (search_seed.site_sizes)


@dataclass
class Seeded:
    database_url: str
    now: int
    info: dict[str, Any]


# -- seeding ------------------------------------------------------------------

USER = "bench@example.com"


async def create_accounts(database_url: str, sites: int) -> None:
    """One organisation owning every site (ids 1..sites, keeping 120 days so
    that the 90 days of data are all theirs) and a user."""
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as db:
            org = await accounts.ensure_organisation(db, "Bench")
            await accounts.create_user(db, USER, "bench-password-1", org_id=org.id, role="owner")
            for n in range(1, sites + 1):
                await accounts.create_site(
                    db, org.id, f"Shop {n}", [f"https://shop{n}.example"], {"retention_days": 120}
                )
            await db.commit()
    finally:
        await engine.dispose()


async def ensure_indexes(database_url: str) -> None:
    """Indexes of the models that a reused database lacks (a migration edited
    since it was seeded keeps its revision id), created and analysed."""
    engine = make_engine(database_url)

    def create(conn: Any) -> list[str]:
        have = {ix["name"] for t in TABLES for ix in inspect(conn).get_indexes(t)}
        made = []
        for table in TABLES:
            for index in Base.metadata.tables[table].indexes:
                if index.name not in have:
                    index.create(conn)
                    made.append(f"{index.name}")
        return made

    try:
        async with engine.begin() as conn:
            made = await conn.run_sync(create)
            for name in made:
                print(f"  created index {name} (the models have it, the cached seed did not)")
            if made:
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


async def new_token(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as db:
            token, _ = await accounts.create_api_token(db, USER)
            await db.commit()
        return token
    finally:
        await engine.dispose()


def load_sqlite(path: Path, args: argparse.Namespace, now: int) -> dict[str, Any]:
    """executemany in large transactions with the secondary indexes and
    triggers dropped, then recreated, the FTS index rebuilt, and ANALYZE."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA cache_size=-2000000")
    tables = tuple(TABLES)
    marks = ", ".join("?" * len(tables))
    ddl = con.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        f"AND tbl_name IN ({marks}) AND sql IS NOT NULL",
        tables,
    ).fetchall()
    for kind, name, _ in ddl:
        con.execute(f"DROP {kind.upper()} {name}")
    inserts = {t: _insert_sql(t, cols) for t, cols in TABLES.items()}
    sessions = round(SESSIONS_AT_SCALE_1 * args.scale)
    sim = InsightSimulator(args.seed, chunks=not args.no_chunks)
    gen = Generator(args.seed, now)
    done = 0
    for batch in insight_batches(gen, sessions, args.sites, sim):
        with con:
            for table, rows in batch.items():
                if rows:
                    con.executemany(inserts[table], rows)
        added = len(batch.get("sessions", ()))
        done += added
        if added and done % 100_000 == 0:
            step(f"sqlite: {done:,} sessions generated and loaded")
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
    return {"now": now, "rows": sim.totals.rows, "clicks": sim.totals.clicks}


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


async def load_postgres(url: str, source: Path) -> None:
    """COPY every seeded table from the SQLite file (the same rows; generating
    them is the slow part), with secondary indexes dropped and triggers off,
    then the URL dictionary filled, indexes rebuilt, VACUUM ANALYZE."""
    con = await asyncpg.connect(_plain(url))
    lite = sqlite3.connect(source)
    try:
        names = [*TABLES, "page_urls"]
        ddl = await con.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            names,
        )
        for row in ddl:
            await con.execute(f'DROP INDEX "{row["indexname"]}"')
        await con.execute("SET session_replication_role = replica")
        for table, columns in TABLES.items():
            booleans = {
                r["column_name"]
                for r in await con.fetch(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = $1 AND data_type = 'boolean'",
                    table,
                )
            }
            flags = [i for i, c in enumerate(columns) if c in booleans]
            cursor = lite.execute(f"SELECT {', '.join(columns)} FROM {table}")
            count = 0
            while rows := cursor.fetchmany(50_000):
                records: list[Row] = rows
                if flags:
                    records = [_with_bools(r, flags) for r in rows]
                await con.copy_records_to_table(table, records=records, columns=columns)
                count += len(rows)
            step(f"postgres: {table} copied ({count:,} rows)")
        for sql in POSTGRES_URL_REFILL:  # its trigger was off during COPY
            await con.execute(sql)
        await con.execute("SET maintenance_work_mem = '1GB'")
        await con.execute("SET max_parallel_maintenance_workers = 2")
        for row in ddl:
            await con.execute(row["indexdef"])
        step("postgres indexes built")
        for table in names:
            await con.execute(f"VACUUM ANALYZE {table}")
        step("postgres VACUUM ANALYZE done")
    finally:
        lite.close()
        await con.close()


def _with_bools(row: Row, flags: list[int]) -> Row:
    out = list(row)
    for i in flags:
        out[i] = bool(out[i])
    return tuple(out)


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def cache_name(args: argparse.Namespace) -> str:
    scale = f"{args.scale:g}".replace(".", "_")
    chunks = "_nochunks" if args.no_chunks else ""
    return f"insights_bench_s{scale}_seed{args.seed}_sites{args.sites}{chunks}"


async def seed_sqlite(args: argparse.Namespace) -> Seeded:
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{cache_name(args)}.db"
    marker = path.with_suffix(".json")
    url = f"sqlite+aiosqlite:///{path}"
    if marker.exists() and path.exists() and not args.fresh:
        info = json.loads(marker.read_text())
        print(f"== sqlite: reusing {path} (seeded {info['seeded']})", flush=True)
        await asyncio.to_thread(upgrade, url)
        await ensure_indexes(url)
        return Seeded(url, int(info["now"]), info)
    for stale in (path, marker):
        stale.unlink(missing_ok=True)
    sessions = round(SESSIONS_AT_SCALE_1 * args.scale)
    print(f"== sqlite: seeding {sessions:,} sessions over {args.sites} sites", flush=True)
    started = time.monotonic()
    await asyncio.to_thread(upgrade, url)
    await create_accounts(url, args.sites)
    now = int(time.time() * 1000)
    info = await asyncio.to_thread(load_sqlite, path, args, now)
    info["seconds"] = round(time.monotonic() - started)
    info["seeded"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    marker.write_text(json.dumps(info))
    print(f"  seeded in {info['seconds']} s: {_rows(info)}", flush=True)
    return Seeded(url, now, info)


async def seed_postgres(args: argparse.Namespace, source: Seeded) -> Seeded:
    """A database named after the seed, on the --postgres server, copied from
    the seeded SQLite file; reused when its marker says it is complete."""
    name = cache_name(args)
    marker = Path(args.cache_dir) / f"{name}.pg.json"
    server = make_url(args.postgres)
    url = server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )
    admin = await asyncpg.connect(_plain(args.postgres))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and marker.exists() and not args.fresh:
            info = json.loads(marker.read_text())
            if info.get("now") == source.now:
                print(f"== postgresql: reusing database {name}", flush=True)
                await asyncio.to_thread(upgrade, url)
                await ensure_indexes(url)
                return Seeded(url, source.now, info)
        if exists:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        marker.unlink(missing_ok=True)
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    print(f"== postgresql: loading database {name} from the SQLite seed", flush=True)
    started = time.monotonic()
    await asyncio.to_thread(upgrade, url)
    await create_accounts(url, args.sites)
    lite_path = Path(make_url(source.database_url).database or "")
    await load_postgres(url, lite_path)
    info = {**source.info, "seconds": round(time.monotonic() - started)}
    info["seeded"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    marker.write_text(json.dumps(info))
    print(f"  loaded in {info['seconds']} s", flush=True)
    return Seeded(url, source.now, info)


def _rows(info: dict[str, Any]) -> str:
    rows = info["rows"]
    parts = [f"{rows[t]:,} {t}" for t in TABLES if rows.get(t)]
    return ", ".join(parts) + f"; {info['clicks']:,} clicks"


# -- measuring ----------------------------------------------------------------

Params = dict[str, str]


@dataclass
class Recorder:
    """SQL statements run while `active` (every engine, sync or async): the
    slowest ones of a request are printed with their plan under --explain."""

    active: bool = False
    statements: list[tuple[float, str, Any]] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if self.active:
            self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        began = self._started.pop(id(cursor), None)
        if self.active and began is not None:
            self.statements.append(((time.perf_counter() - began) * 1000, statement, params))


def request_types(now: int, rng: random.Random) -> dict[str, tuple[str, Callable[[], Params]]]:
    """name -> (endpoint, parameters). The range (30 UTC days, like the
    default) ends at a random minute of the data's last ten hours, so no two
    requests are the same."""

    def last_30_days(**extra: str) -> Callable[[], Params]:
        def make() -> Params:
            to = now - rng.randrange(0, 600) * 60_000
            return {"from": str(to - 29 * DAY_MS), "to": str(to), **extra}

        return make

    return {
        "stats, 30 days": ("stats", last_30_days()),
        "stats, 30 days, device=mobile": ("stats", last_30_days(device="mobile")),
        "stats, 30 days, url=/checkout prefix": (
            "stats",
            last_30_days(url="/checkout", url_match="prefix"),
        ),
        "heatmap click, url=/, desktop": (
            "heatmap",
            last_30_days(url="/", kind="click", device="desktop"),
        ),
        "heatmap scroll, url=/, desktop": (
            "heatmap",
            last_30_days(url="/", kind="scroll", device="desktop"),
        ),
    }


async def measure(
    name: str, seeded: Seeded, data_dir: Path, args: argparse.Namespace, recorder: Recorder
) -> list[str]:
    token = await new_token(seeded.database_url)
    settings = Settings(
        data_dir=data_dir, database_url=seeded.database_url, retention_sweep_seconds=0
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    lines = []
    rng = random.Random(16)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=headers) as http:
            for label, (endpoint, make) in request_types(seeded.now, rng).items():
                target = STATS_P95_MS if endpoint == "stats" else HEATMAP_P95_MS
                timings: list[float] = []
                sizes: list[int] = []
                body: Any = None
                slowest: tuple[float, list[tuple[float, str, Any]]] = (0.0, [])
                for i in range(args.requests + 3):
                    params = make()
                    recorder.statements = []
                    recorder.active = args.explain
                    started = time.perf_counter()
                    async with http.get(f"/api/v1/sites/{BIGGEST}/{endpoint}", params=params) as r:
                        raw = await r.read()
                        elapsed = (time.perf_counter() - started) * 1000
                        if r.status != 200:
                            raise RuntimeError(f"{label}: HTTP {r.status} {raw[:500]!r}")
                    recorder.active = False
                    if i >= 3:  # the first few warm caches and connections
                        timings.append(elapsed)
                        sizes.append(len(raw))
                        if elapsed > slowest[0]:
                            slowest = (elapsed, recorder.statements)
                    body = json.loads(raw)
                p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
                verdict = "ok" if p95 <= target else "OVER TARGET"
                lines.append(
                    f"  {label:<38} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                    f"p95/target {p95 / target:4.2f} ({target:.0f} ms)  "
                    f"{sum(sizes) / len(sizes) / 1024:5.1f} KB  {verdict}"
                )
                print(lines[-1], flush=True)
                print(f"      {summary(endpoint, body)}", flush=True)
                if args.explain:
                    await explain(name, seeded.database_url, slowest)
    finally:
        await runner.cleanup()
    return lines


def summary(endpoint: str, body: Any) -> str:
    """A few figures of the last response, to see that it counted something."""
    if endpoint == "stats":
        t = body.get("totals", {})
        return (
            f"totals: {t.get('sessions'):,} sessions, {t.get('visitors'):,} visitors, "
            f"{t.get('page_views'):,} page views, bounce rate {t.get('bounce_rate', 0):.2f}; "
            f"{len(body.get('series', []))} days, {len(body.get('pages', []))} pages"
        )
    if "depths" in body:
        half: dict[str, Any] = next((d for d in body["depths"] if d.get("percent") == 50), {})
        return (
            f"{body.get('page_views'):,} page views, fold {body.get('fold_px')} px, "
            f"{half.get('share', 0):.0%} reached 50%, snapshot {bool(body.get('snapshot'))}"
        )
    elements = body.get("elements", [])
    top = elements[0] if elements else {}
    return (
        f"{body.get('page_views'):,} page views, {len(elements)} elements, "
        f"{len(body.get('points', []))} points, top {top.get('selector')!r} "
        f"({top.get('clicks')} clicks), snapshot {bool(body.get('snapshot'))}"
    )


async def explain(
    name: str, database_url: str, slowest: tuple[float, list[tuple[float, str, Any]]]
) -> None:
    """The plan of the slowest statements of the slowest timed request."""
    elapsed, statements = slowest
    print(f"      slowest request {elapsed:.1f} ms, its statements:")
    for ms, sql, _ in statements:
        print(f"        {ms:7.1f} ms  {' '.join(sql.split())[:150]}")
    for ms, sql, params in sorted(statements, key=lambda s: -s[0])[:2]:
        print(f"      plan of the {ms:.1f} ms statement:\n        {' '.join(sql.split())}")
        print(f"        params: {params!r}"[:400])
        if name == "sqlite":
            con = sqlite3.connect(make_url(database_url).database or "")
            try:
                rows = con.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()).fetchall()
                plan = [f"{r[0]:>4} {r[1]:>4} {r[3]}" for r in rows]
            finally:
                con.close()
        else:
            con = await asyncpg.connect(_plain(database_url))
            try:
                rows = await con.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *(params or ()))
                plan = [r[0] for r in rows]
            finally:
                await con.close()
        print("\n".join(f"          {line}" for line in plan))


# -- ingest CPU -----------------------------------------------------------------


def ingest_cpu(args: argparse.Namespace) -> list[str]:
    """The ingest load (benchmarks/ingest_load.py) against a server with
    insights on and one with them off, in the same run."""
    from benchmarks import ingest_load

    load_args = argparse.Namespace(
        connections=args.connections, seconds=args.seconds, ramp=args.ramp, rate=1.0
    )
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    order: list[str] = []
    for i in range(args.ingest_rounds):  # on, off, off, on, ...: drifts of the machine cancel
        order += ["on", "off"] if i % 2 == 0 else ["off", "on"]
    for mode in order:
        print(f"== ingest load, REPLAY_INSIGHTS={mode}", flush=True)
        result = ingest_load.run_replay(load_args, {"REPLAY_INSIGHTS": mode})
        ingest_load.show(f"ins {mode}", result)
        runs[mode].append(result)
    lines = []
    cpu = {m: sum(r["server_cpu_s"] for r in rs) / len(rs) for m, rs in runs.items()}
    parts: dict[str, dict[str, float]] = {}
    for mode, results in runs.items():
        for r in results:
            for name, seconds in r["server_cpu_by_process"].items():
                parts.setdefault(name, {}).setdefault(mode, 0.0)
                parts[name][mode] += seconds / len(results)
    for mode, results in runs.items():
        for r in results:
            ok = (
                r["errors"] == 0
                and r["batches_per_s"] >= 0.6 * args.connections
                and r["p99_ms"] <= 100
                and r["rss_idle_kb_per_conn"] <= 50
            )
            lines.append(
                f"  insights {mode:<3}: server CPU {r['server_cpu_s']:6.1f} s "
                f"({r['server_cpu_s'] / r['cpu_window_s']:.2f} cores)  "
                f"{r['batches_per_s']:7.1f} batches/s  p50 {r['p50_ms']:6.1f} ms  "
                f"p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}  "
                f"RSS idle {r['rss_idle_kb_per_conn']:.1f} KB/conn  "
                f"{'within the ingest targets' if ok else 'OUTSIDE the ingest targets'}"
            )
    for name, by_mode in parts.items():
        on, off = by_mode.get("on", 0.0), by_mode.get("off", 0.0)
        lines.append(f"    {name:<24} on {on:6.1f} s  off {off:6.1f} s  ({on - off:+.1f} s)")
    ratio = cpu["on"] / cpu["off"]
    verdict = "ok" if ratio <= CPU_RATIO_TARGET else "OVER TARGET"
    lines.append(
        f"  server CPU on/off: {cpu['on']:.1f} s / {cpu['off']:.1f} s = {ratio:.3f} "
        f"(target <= {CPU_RATIO_TARGET:.2f}) {verdict}"
    )
    return lines


# -- main -----------------------------------------------------------------------


async def run(args: argparse.Namespace) -> list[str]:
    summary_lines: list[str] = []
    recorder = Recorder()
    if args.explain:
        recorder.install()
    need_sqlite = not args.skip_sqlite or (args.postgres and not args.skip_postgres)
    with tempfile.TemporaryDirectory(prefix="insights-bench-") as tmp:
        if need_sqlite:
            lite = await seed_sqlite(args)
            header = f"{_rows(lite.info)} (seeded {lite.info['seeded']})"
            summary_lines.append(f"data: {header}")
            if not args.skip_sqlite and not args.seed_only:
                print("== sqlite: measuring", flush=True)
                data_dir = Path(tmp) / "sqlite"
                data_dir.mkdir()
                summary_lines.append("sqlite:")
                summary_lines += await measure("sqlite", lite, data_dir, args, recorder)
            if args.postgres and not args.skip_postgres:
                pg = await seed_postgres(args, lite)
                if args.seed_only:
                    return summary_lines
                print("== postgresql: measuring", flush=True)
                data_dir = Path(tmp) / "postgres"
                data_dir.mkdir()
                summary_lines.append("postgresql:")
                summary_lines += await measure("postgresql", pg, data_dir, args, recorder)
                if args.drop:
                    admin = await asyncpg.connect(_plain(args.postgres))
                    await admin.execute(f'DROP DATABASE "{cache_name(args)}" WITH (FORCE)')
                    await admin.close()
    return summary_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 1,000,000 sessions")
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per type")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("REPLAY_TEST_POSTGRES_URL", ""),
        help="PostgreSQL server URL (default $REPLAY_TEST_POSTGRES_URL); a database is "
        "created on it",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="do not measure SQLite")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-chunks", action="store_true", help="no chunk rows")
    parser.add_argument(
        "--cache-dir",
        default=str(Path(tempfile.gettempdir()) / "replay-insights-bench"),
        help="where seeded SQLite files (and markers of seeded PostgreSQL databases) stay",
    )
    parser.add_argument("--seed-only", action="store_true", help="seed (or reuse), no timing")
    parser.add_argument("--fresh", action="store_true", help="seed again, ignoring the cache")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database after")
    parser.add_argument("--explain", action="store_true", help="print the slowest SQL and plans")
    parser.add_argument("--ingest", action="store_true", help="run part 2 (ingest CPU)")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ramp", type=float, default=20.0)
    parser.add_argument(
        "--ingest-rounds", type=int, default=1, help="on/off pairs (2: on, off, off, on)"
    )
    args = parser.parse_args()
    lines = asyncio.run(run(args)) if not (args.skip_sqlite and args.skip_postgres) else []
    if args.ingest:
        lines += ["ingest load:", *ingest_cpu(args)]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"\n== summary ({os.cpu_count()} CPUs, {when}; "
        f"targets p95: stats <= {STATS_P95_MS:.0f} ms, heatmap <= {HEATMAP_P95_MS:.0f} ms)"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
