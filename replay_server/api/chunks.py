"""Chunks served as stored (issue 17): a session's chunk blob exactly as it is
in the blob store, and a site's zstd dictionary, for a player that decodes them
itself. Nothing is decoded or re-encoded here: the CPU of opening a replay
this way is a database row, a blob read and a copy.

Both are immutable (a blob key is unique per write and never rewritten; a
dictionary id is never reused), so responses carry a strong ETag and may be
cached privately for a year; a matching If-None-Match is answered 304 without
reading the blob. Access is the events API's: the session (or site) must belong
to one of the caller's organisations, else 404.

What the events API shows is what is stored: masking and URL redaction happen
at ingest (privacy/masking.py, privacy/urls.py), and the events API does not
transform events at read time, so serving the blob bypasses nothing.
"""

from __future__ import annotations

import hashlib

from aiohttp import web
from sqlalchemy import select

from replay_server import keys
from replay_server.api.params import id_in_path
from replay_server.auth.context import require_principal
from replay_server.chunks.format import QUARANTINED
from replay_server.db import scope
from replay_server.db.models import Chunk, RecordedSession, Site, SiteDictionary
from replay_server.errors import NotFound

IMMUTABLE = "private, max-age=31536000, immutable"
CHUNK_TYPE = "application/vnd.replay-server.chunk"
DICTIONARY_TYPE = "application/vnd.replay-server.zstd-dictionary"


async def get_chunk_blob(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/sessions/{session_id}/chunks/{chunk}: the blob of chunk index `chunk`."""
    principal = require_principal(request)
    idx = id_in_path(request, "chunk")
    session_id = request.match_info["session_id"]
    if "\x00" in session_id:  # PostgreSQL refuses NUL in text
        raise NotFound("session not found")
    # One statement, scoped as scope.get_session is: a request's cost is mostly
    # per statement, and a player asks for many chunks.
    visible = select(Site.id).where(Site.org_id.in_(principal.org_ids))
    async with request.app[keys.DB]() as db:
        chunk = await db.scalar(
            select(Chunk)
            .join(RecordedSession, RecordedSession.id == Chunk.session_id)
            .where(
                Chunk.session_id == session_id,
                Chunk.idx == idx,
                RecordedSession.site_id.in_(visible),
            )
        )
    if chunk is None or chunk.format_version == QUARANTINED:
        # A quarantined row holds a raw spool record, not a chunk (chunks/cut.py).
        raise NotFound("chunk not found")
    etag = _strong_etag(f"chunk:{chunk.blob_key}")
    if _matches(request, etag):
        return _not_modified(etag)
    data = await request.app[keys.BLOBS].get(chunk.blob_key)  # NotFound when it is gone
    return _immutable(data, CHUNK_TYPE, etag)


async def get_dictionary(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/sites/{site_id}/dictionaries/{dictionary_id}: the dictionary's bytes."""
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    dictionary_id = id_in_path(request, "dictionary_id")
    async with request.app[keys.DB]() as db:
        await scope.get_site(db, principal, site_id)
        data = await db.scalar(
            select(SiteDictionary.data).where(
                SiteDictionary.id == dictionary_id, SiteDictionary.site_id == site_id
            )
        )
    if data is None:
        raise NotFound("dictionary not found")
    etag = _strong_etag(f"dictionary:{site_id}:{dictionary_id}")
    if _matches(request, etag):
        return _not_modified(etag)
    return _immutable(bytes(data), DICTIONARY_TYPE, etag)


def _strong_etag(identity: str) -> str:
    return '"' + hashlib.blake2b(identity.encode(), digest_size=12).hexdigest() + '"'


def _matches(request: web.Request, etag: str) -> bool:
    """If-None-Match (weak comparison, as RFC 9110 asks for it): any listed tag or *."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _not_modified(etag: str) -> web.Response:
    response = web.Response(status=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def _immutable(data: bytes, content_type: str, etag: str) -> web.Response:
    response = web.Response(body=data, content_type=content_type)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = IMMUTABLE
    return response
