"""Every web.AppKey of the application: typed shared state, no globals."""

from __future__ import annotations

import weakref

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from replay_server.auth.throttle import LoginThrottle
from replay_server.chunks.reader import SessionReader
from replay_server.db.engine import SessionFactory
from replay_server.enrich.visitmeta import CountryLookup
from replay_server.ingest.admission import Admission
from replay_server.ingest.ingestor import Ingestor
from replay_server.ingest.ratelimit import IngestRateLimits
from replay_server.ingest.sites import SiteDirectory
from replay_server.live import LiveBroker
from replay_server.metrics import Metrics
from replay_server.settings import Settings
from replay_server.storage.base import BlobStore

SETTINGS = web.AppKey("settings", Settings)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
DB = web.AppKey("db", SessionFactory)
BLOBS = web.AppKey("blobs", BlobStore)
INGESTOR = web.AppKey("ingestor", Ingestor)
READER = web.AppKey("reader", SessionReader)  # sessions read back (API, export, live)
SITES = web.AppKey("sites", SiteDirectory)
SECRET = web.AppKey("secret", bytes)
RECORDER_SOCKETS = web.AppKey("recorder_sockets", weakref.WeakSet[web.WebSocketResponse])
METRICS = web.AppKey("metrics", Metrics)
RATE_LIMITS = web.AppKey("rate_limits", IngestRateLimits)
ADMISSION = web.AppKey("admission", Admission)
LIVE = web.AppKey("live", LiveBroker)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
COUNTRIES = web.AppKey("countries", CountryLookup)
