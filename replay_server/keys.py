"""Every web.AppKey of the application: typed shared state, no globals."""

from __future__ import annotations

import weakref

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .auth.throttle import LoginThrottle
from .db.engine import SessionFactory
from .ingest.admission import Admission
from .ingest.ingestor import Ingestor
from .ingest.ratelimit import IngestRateLimits
from .ingest.sites import SiteDirectory
from .ingest.visitmeta import CountryLookup
from .live import LiveBroker
from .metrics import Metrics
from .settings import Settings
from .storage.base import BlobStore

SETTINGS = web.AppKey("settings", Settings)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
DB = web.AppKey("db", SessionFactory)
BLOBS = web.AppKey("blobs", BlobStore)
INGESTOR = web.AppKey("ingestor", Ingestor)
SITES = web.AppKey("sites", SiteDirectory)
SECRET = web.AppKey("secret", bytes)
RECORDER_SOCKETS = web.AppKey("recorder_sockets", weakref.WeakSet[web.WebSocketResponse])
METRICS = web.AppKey("metrics", Metrics)
RATE_LIMITS = web.AppKey("rate_limits", IngestRateLimits)
ADMISSION = web.AppKey("admission", Admission)
LIVE = web.AppKey("live", LiveBroker)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
COUNTRIES = web.AppKey("countries", CountryLookup)
