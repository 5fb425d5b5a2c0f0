"""create_app(settings): the one way to build the application. Pure: no env
reads, no I/O until the app starts (resources open in cleanup contexts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from replay_server import keys
from replay_server.auth.middleware import auth_middleware
from replay_server.auth.secret import load_or_create_secret
from replay_server.auth.throttle import FailureWindow, LoginThrottle
from replay_server.chunks.dictionary_trainer import DictionaryTrainer
from replay_server.dashboard import setup_templates
from replay_server.enrich.geoip import open_mmdb_countries
from replay_server.enrich.visitmeta import IptoccCountries
from replay_server.ingest.admission import Admission, Budget
from replay_server.ingest.ingestor import Ingestor
from replay_server.ingest.ratelimit import IngestRateLimits, RateLimiter
from replay_server.ingest.sites import SiteDirectory
from replay_server.live import LiveBroker, LocalBroker
from replay_server.live.redis_broker import RedisBroker
from replay_server.metrics import Metrics
from replay_server.privacy.retention import RetentionSweeper
from replay_server.routes import add_routes
from replay_server.settings import Settings
from replay_server.stores import open_blobs, open_database
from replay_server.web.memtrim import malloc_trimmer
from replay_server.web.middleware import error_middleware, security_headers_middleware
from replay_server.ws_recorder import setup_recorder_sockets

log = logging.getLogger(__name__)

TRIM_AFTER_BYTES = 16 * 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[security_headers_middleware, error_middleware, auth_middleware],
        client_max_size=settings.max_frame_bytes,
    )
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app[keys.RATE_LIMITS] = ingest_rate_limits(settings)
    app[keys.ADMISSION] = Admission(
        settings.max_connections,
        settings.max_connections_per_ip,
        Budget(settings.max_inflight_bytes),
    )
    app[keys.LOGIN_THROTTLE] = LoginThrottle(
        FailureWindow(
            settings.login_failures_per_account_and_ip, settings.login_failure_window_seconds
        ),
        FailureWindow(settings.login_failures_per_ip, settings.login_failure_window_seconds),
        FailureWindow(settings.login_failures_per_account, settings.login_failure_window_seconds),
    )
    app.cleanup_ctx.append(_countries)  # first: a bad database file stops start-up early
    app.cleanup_ctx.append(_secret)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_blob_store)
    app.cleanup_ctx.append(_live_broker)
    app.cleanup_ctx.append(_ingestor)
    app.cleanup_ctx.append(_retention_sweeper)
    app.cleanup_ctx.append(_dictionary_trainer)
    app.cleanup_ctx.append(_deadline_sweeper)
    setup_recorder_sockets(app)
    setup_templates(app)
    add_routes(app)
    return app


def ingest_rate_limits(s: Settings) -> IngestRateLimits:
    return IngestRateLimits(
        hellos_per_ip=RateLimiter(s.rate_per_ip, s.rate_burst_per_ip, "IP address"),
        connects_per_ip=RateLimiter(
            s.rate_connects_per_ip, s.rate_burst_connects_per_ip, "IP address"
        ),
        session_messages=RateLimiter(s.rate_per_session, s.rate_burst_per_session, "session"),
        session_bytes=RateLimiter(
            s.rate_bytes_per_session, s.rate_burst_bytes_per_session, "session"
        ),
        site_messages=RateLimiter(s.rate_per_site, s.rate_burst_per_site, "site"),
        site_bytes=RateLimiter(s.rate_bytes_per_site, s.rate_burst_bytes_per_site, "site"),
        max_wait=s.rate_max_wait_seconds,
    )


async def _countries(app: web.Application) -> AsyncIterator[None]:
    path = app[keys.SETTINGS].geoip_mmdb
    if not path:
        app[keys.COUNTRIES] = IptoccCountries()
        yield
        return
    countries = await asyncio.to_thread(open_mmdb_countries, path)
    app[keys.COUNTRIES] = countries
    yield
    countries.close()


async def _secret(app: web.Application) -> AsyncIterator[None]:
    app[keys.SECRET] = await load_or_create_secret(app[keys.SETTINGS])
    yield


async def _database(app: web.Application) -> AsyncIterator[None]:
    async with open_database(app[keys.SETTINGS]) as db:
        app[keys.DB_ENGINE] = db.engine
        app[keys.DB] = db.sessions
        app[keys.SITES] = SiteDirectory(db.sessions)
        yield


async def _blob_store(app: web.Application) -> AsyncIterator[None]:
    async with open_blobs(app[keys.SETTINGS]) as store:
        app[keys.BLOBS] = store
        yield


async def _live_broker(app: web.Application) -> AsyncIterator[None]:
    redis_url = app[keys.SETTINGS].redis_url
    broker: LiveBroker = await RedisBroker.connect(redis_url) if redis_url else LocalBroker()
    app[keys.LIVE] = broker
    yield
    await broker.close()


async def _ingestor(app: web.Application) -> AsyncIterator[None]:
    ingestor = Ingestor(
        app[keys.SETTINGS], app[keys.DB], app[keys.BLOBS], app[keys.METRICS], app[keys.LIVE]
    )
    await ingestor.start()
    app[keys.INGESTOR] = ingestor
    app[keys.READER] = ingestor.reader
    yield
    await ingestor.close()


async def _retention_sweeper(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    sweeper = RetentionSweeper(
        app[keys.DB],
        app[keys.BLOBS],
        settings.retention_sweep_seconds,
        insights_days=settings.insights_retention_days,
    )
    sweeper.start()
    yield
    await sweeper.close()


async def _dictionary_trainer(app: web.Application) -> AsyncIterator[None]:
    """Site dictionaries (chunks/dictionary_trainer.py), at the retention sweep's cadence."""
    ingestor = app[keys.INGESTOR]
    trainer = DictionaryTrainer(
        app[keys.DB],
        app[keys.BLOBS],
        ingestor.builder,
        ingestor.writer.dictionaries,
        app[keys.SETTINGS].retention_sweep_seconds,
    )
    trainer.start()
    yield
    await trainer.close()


async def _deadline_sweeper(app: web.Application) -> AsyncIterator[None]:
    """Closes what is late (request heads, WebSocket frames: web/conn_guard.py); one
    sweep per tick for every connection instead of a timer each."""
    settings = app[keys.SETTINGS]
    admission = app[keys.ADMISSION]
    tick = min(1.0, settings.http_header_timeout_seconds / 4, settings.frame_timeout_seconds / 4)
    trim = malloc_trimmer()

    async def sweep() -> None:
        trim_due = False
        while True:
            await asyncio.sleep(tick)
            try:
                admission.deadlines.sweep(time.monotonic())
            except Exception:  # the sweeper must outlive any one connection's close
                log.exception("deadline sweep failed")
            # Big frames done with (received, refused or dropped) a tick ago, once
            # their connections have let go of them: their memory back to the system.
            if trim_due and trim is not None:
                trim()
            trim_due = admission.inflight.take_released() >= TRIM_AFTER_BYTES

    task = asyncio.create_task(sweep())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
