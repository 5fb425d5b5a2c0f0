"""Site dictionaries in the database (chunk_dictionaries): adding a trained
one, the newest of a site (for new chunks) and any by id (for reading).

Two caches, each bounded: the writer's choice of a site's newest dictionary is
kept NEWEST_TTL_SECONDS (a new dictionary is picked up within that; retention
waits far longer before it deletes a superseded one, privacy/retention.py), and
readers keep dictionaries by id (immutable: ids are never reused) in an LRU.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import insert, select

from replay_server.chunks.format import NO_DICTIONARY, ChunkDictionary
from replay_server.db.engine import SessionFactory
from replay_server.db.models import DICTIONARIES

NEWEST_TTL_SECONDS = 60.0
CACHED_SITES = 4096
CACHED_DICTIONARIES = 256  # 16 KB each: ~4 MB at most


async def add_dictionary(
    db: SessionFactory,
    site_id: int,
    data: bytes,
    sample_count: int,
    sample_bytes: int,
    now_ms: int,
) -> int:
    """Store a newly trained dictionary of the site; its id."""
    async with db() as session, session.begin():
        result = await session.execute(
            insert(DICTIONARIES)
            .values(
                site_id=site_id,
                created_ms=now_ms,
                sample_count=sample_count,
                sample_bytes=sample_bytes,
                data=data,
            )
            .returning(DICTIONARIES.c.id)
        )
        return int(result.scalar_one())


async def newest_dictionary(db: SessionFactory, site_id: int) -> ChunkDictionary | None:
    query = (
        select(DICTIONARIES.c.id, DICTIONARIES.c.data)
        .where(DICTIONARIES.c.site_id == site_id)
        .order_by(DICTIONARIES.c.id.desc())
        .limit(1)
    )
    async with db() as session:
        row = (await session.execute(query)).first()
    return None if row is None else ChunkDictionary(int(row.id), bytes(row.data))


class NewestDictionaries:
    """The writer's view: each site's newest dictionary, looked up at most once
    per NEWEST_TTL_SECONDS."""

    def __init__(self, db: SessionFactory, ttl: float = NEWEST_TTL_SECONDS) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: OrderedDict[int, tuple[float, ChunkDictionary | None]] = OrderedDict()

    async def newest(self, site_id: int) -> ChunkDictionary | None:
        now = time.monotonic()
        cached = self._cache.get(site_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await newest_dictionary(self._db, site_id)
        self._cache[site_id] = (now + self._ttl, found)
        self._cache.move_to_end(site_id)
        while len(self._cache) > CACHED_SITES:
            self._cache.popitem(last=False)
        return found

    def forget(self, site_id: int) -> None:
        """A new dictionary was trained on this node: use it from now on."""
        self._cache.pop(site_id, None)


class DictionaryCache:
    """The readers' view: dictionaries by id, an LRU of CACHED_DICTIONARIES."""

    def __init__(self, db: SessionFactory, capacity: int = CACHED_DICTIONARIES) -> None:
        self._db = db
        self._capacity = capacity
        self._cache: OrderedDict[int, ChunkDictionary] = OrderedDict()

    async def get_many(self, ids: Iterable[int]) -> dict[int, ChunkDictionary]:
        """Those of `ids` that exist (0, "none", is left out)."""
        wanted = {i for i in ids if i != NO_DICTIONARY}
        found: dict[int, ChunkDictionary] = {}
        for i in wanted:
            cached = self._cache.get(i)
            if cached is not None:
                self._cache.move_to_end(i)
                found[i] = cached
        missing = sorted(wanted - found.keys())
        if missing:
            query = select(DICTIONARIES.c.id, DICTIONARIES.c.data).where(
                DICTIONARIES.c.id.in_(missing)
            )
            async with self._db() as session:
                for row in await session.execute(query):
                    loaded = ChunkDictionary(int(row.id), bytes(row.data))
                    found[loaded.id] = loaded
                    self._remember(loaded)
        return found

    def _remember(self, dictionary: ChunkDictionary) -> None:
        self._cache[dictionary.id] = dictionary
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
