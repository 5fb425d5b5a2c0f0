"""Site look-up by public key for the ingest path, cached briefly so that a
connection storm does not turn into a query storm: concurrent look-ups of a
key that is not cached share one query."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from replay_server.accounts.origins import origin_or_empty
from replay_server.accounts.site_settings import SiteSettings
from replay_server.db.engine import SessionFactory
from replay_server.db.models import Site
from replay_server.errors import Forbidden, UnknownSite

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class SiteInfo:
    id: int
    org_id: int
    public_key: str
    allowed_origins: frozenset[str]
    settings: dict[str, Any]  # as stored; read `site_settings`
    site_settings: SiteSettings

    def check_origin(self, origin: str | None) -> None:
        """Security invariant: ingest only from the site's own origins."""
        if origin is None or origin_or_empty(origin) not in self.allowed_origins:
            raise Forbidden(
                f"origin {origin!r} is not allowed for this site", code="origin_not_allowed"
            )

    def recorder_config(self, sid: str = "") -> dict[str, Any]:
        """The `config` of the welcome message (docs/protocol.md). With a session
        id, sampling decides here: a session sampled out gets `record: false`."""
        s = self.site_settings
        rate = s.sample_rate
        return {
            "record": s.record and (not sid or sampled_in(self.id, sid, rate)),
            "sampleRate": rate,
            "maskAllInputs": s.mask_all_inputs,
            "maskAllText": s.mask_all_text,
            "blockSelector": s.block_selector,
            "maskTextSelector": s.mask_text_selector,
            "batchMs": s.batch_ms,
            "mousemoveSampleMs": s.mousemove_sample_ms,
            "urlParamsAllow": list(s.url_params_allow),
            "urlParamsDeny": list(s.url_params_deny),
        }


def sampled_in(site_id: int, sid: str, rate: float) -> bool:
    """Whether session `sid` is recorded at sampling `rate`: decided once per
    session (a hash of site and session id, so every page, reconnect and server
    node of the session gets the same answer), uniformly over sessions."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(f"{site_id}:{sid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < rate * 2**64


class SiteDirectory:
    def __init__(self, db: SessionFactory) -> None:
        self._db = db
        self._cache: dict[str, tuple[float, SiteInfo | None]] = {}
        self._loading: dict[str, asyncio.Task[SiteInfo | None]] = {}

    async def by_key(self, public_key: str) -> SiteInfo:
        hit = self._cache.get(public_key)
        if hit is not None and time.monotonic() - hit[0] <= CACHE_SECONDS:
            site = hit[1]
        else:
            site = await self._shared_load(public_key)
        if site is None:
            raise UnknownSite("unknown site key", code="unknown_site")
        return site

    async def _shared_load(self, public_key: str) -> SiteInfo | None:
        task = self._loading.get(public_key)
        if task is None:
            task = asyncio.create_task(self._load(public_key))
            self._loading[public_key] = task
            task.add_done_callback(lambda done: self._loaded(public_key, done))
        # shield: one cancelled waiter (a dropped connection) must not cancel the others'.
        return await asyncio.shield(task)

    def _loaded(self, public_key: str, task: asyncio.Task[SiteInfo | None]) -> None:
        if self._loading.get(public_key) is not task:
            return  # forgotten while loading: what it read may be stale
        del self._loading[public_key]
        if task.cancelled() or task.exception() is not None:
            return
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[public_key] = (time.monotonic(), task.result())

    def forget(self, public_key: str) -> None:
        self._cache.pop(public_key, None)
        self._loading.pop(public_key, None)

    async def _load(self, public_key: str) -> SiteInfo | None:
        async with self._db() as db:
            site = await db.scalar(select(Site).where(Site.public_key == public_key))
        if site is None:
            return None
        return SiteInfo(
            id=site.id,
            org_id=site.org_id,
            public_key=site.public_key,
            allowed_origins=frozenset(origin_or_empty(o) for o in site.allowed_origins) - {""},
            settings=dict(site.settings),
            site_settings=SiteSettings.from_stored(site.settings),
        )
