"""Running the application for `serve` and `demo`: the file descriptor limit,
then aiohttp's runner with the guarded TCP site (replay_server/web/conn_guard.py),
until SIGINT/SIGTERM. Like `web.run_app`, which cannot take another site."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource

from aiohttp import web

from replay_server import keys
from replay_server.logs import ACCESS_LOG_FORMAT
from replay_server.settings import Settings
from replay_server.web.conn_guard import GuardConfig, GuardedSite

log = logging.getLogger(__name__)

FD_CEILING = 1 << 20  # when the hard limit is unlimited
FD_RESERVE = 256  # descriptors kept for files, the database, workers, S3 and Redis


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (every socket is a descriptor;
    the common soft default of 1,024 is ~1,000 visitors). Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = FD_CEILING if hard == resource.RLIM_INFINITY else min(hard, FD_CEILING)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            log.info("file descriptor limit raised from %d to %d", soft, target)
            soft = target
        except (ValueError, OSError) as e:
            log.warning("file descriptor limit stays %d (hard %d): %s", soft, hard, e)
    else:
        log.info("file descriptor limit: %d", soft)
    return int(min(soft, FD_CEILING))


def connection_cap(settings: Settings, fd_limit: int) -> int:
    if settings.max_connections:
        return settings.max_connections
    return max(16, fd_limit - FD_RESERVE)


def run_server(settings: Settings, app: web.Application) -> None:
    fd_limit = raise_fd_limit()
    app[keys.ADMISSION].max_connections = connection_cap(settings, fd_limit)
    log.info("accepting at most %d connections", app[keys.ADMISSION].max_connections)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(settings, app))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve(settings: Settings, app: web.Application) -> None:
    runner = web.AppRunner(
        app,
        handle_signals=True,
        access_log_format=ACCESS_LOG_FORMAT,
        keepalive_timeout=settings.http_keepalive_seconds,
        shutdown_timeout=settings.shutdown_timeout_seconds,
    )
    await runner.setup()
    try:
        config = guard_config(settings, app)
        site = GuardedSite(runner, config, host=settings.host, port=settings.port)
        await site.start()
        print(f"======== Running on {site.name} ========", flush=True)
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()


def guard_config(settings: Settings, app: web.Application) -> GuardConfig:
    return GuardConfig(
        admission=app[keys.ADMISSION],
        metrics=app[keys.METRICS],
        trusted_proxies=settings.trusted_proxies,
        header_timeout=settings.http_header_timeout_seconds,
        frame_timeout=settings.frame_timeout_seconds,
        hello_frame_bytes=settings.max_hello_frame_bytes,
        max_frame_bytes=settings.max_frame_bytes,
    )
