"""`GET /healthz` (200 when the database and the blob store answer, else 503)
and `GET /metrics` (Prometheus text format).

/healthz is public, so it names only the part that failed; what failed and
why (local paths, driver messages) goes to the log. /metrics is guarded as
docs/deployment.md ("Metrics") says: `metrics_access` decides."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from replay_server import keys
from replay_server.settings import Settings
from replay_server.web.middleware import error_body

log = logging.getLogger(__name__)

FORWARDED_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


async def healthz(request: web.Request) -> web.Response:
    failed: list[str] = []
    try:
        async with request.app[keys.DB]() as db:
            await db.execute(text("SELECT 1"))
    except Exception:  # any failure means unhealthy; the details are for the log
        log.exception("health check: the database failed")
        failed.append("database")
    try:
        await request.app[keys.BLOBS].check()
    except Exception:
        log.exception("health check: the blob store failed")
        failed.append("storage")
    if failed:
        problems = dict.fromkeys(failed, "unavailable")
        return web.json_response({"status": "unhealthy", "problems": problems}, status=503)
    return web.json_response({"status": "ok"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    refusal = metrics_refusal(request.app[keys.SETTINGS], request)
    if refusal is not None:
        return refusal
    # The ingestor keeps its gauges current itself (every tick).
    body = generate_latest(request.app[keys.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def metrics_refusal(settings: Settings, request: web.Request) -> web.Response | None:
    """None when this request may read /metrics: with REPLAY_METRICS_TOKEN set,
    only with that bearer token; else when REPLAY_METRICS_PUBLIC is on, or when
    the server listens on a loopback address only and the request did not come
    through a proxy (a proxy in front makes the server public). Otherwise 404,
    as if there were no such page."""
    if settings.metrics_token:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        given = token.strip().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given, settings.metrics_token.encode()
        ):
            return None
        return web.json_response(
            error_body("unauthorized", "send Authorization: Bearer TOKEN"),
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if settings.metrics_public:
        return None
    if is_loopback(settings.host) and not any(h in request.headers for h in FORWARDED_HEADERS):
        return None
    return web.json_response(error_body("not_found", "Not Found"), status=404)


def is_loopback(host: str) -> bool:
    """Whether `host` (the listen address) accepts connections from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
