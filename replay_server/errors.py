"""Domain errors. No aiohttp here: the edge (middleware, WebSocket handler) maps
them to HTTP statuses and WebSocket close codes."""

from __future__ import annotations


class ReplayError(Exception):
    """Base of every error the server reports to a client on purpose."""

    code = "error"
    http_status = 400
    ws_close_code = 4400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigError(ReplayError):
    code = "config_error"
    http_status = 500
    ws_close_code = 1011


class InvalidMessage(ReplayError):
    """Malformed or invalid protocol message or event (4400)."""

    code = "invalid_message"


class UnknownSite(ReplayError):
    code = "unknown_site"
    http_status = 401
    ws_close_code = 4401


class Forbidden(ReplayError):
    """Origin not allowed, session of another site, recording refused (4403)."""

    code = "forbidden"
    http_status = 403
    ws_close_code = 4403


class TooLarge(ReplayError):
    code = "too_large"
    http_status = 413
    ws_close_code = 4413


class RateLimited(ReplayError):
    code = "rate_limited"
    http_status = 429
    ws_close_code = 4429


class NotFound(ReplayError):
    code = "not_found"
    http_status = 404


class Unauthorized(ReplayError):
    code = "unauthorized"
    http_status = 401


class CorruptChunk(ReplayError):
    """A stored chunk could not be decoded (bad magic, unknown version, bad zstd)."""

    code = "corrupt_chunk"
    http_status = 500
    ws_close_code = 1011


class StorageError(ReplayError):
    code = "storage_error"
    http_status = 503
    ws_close_code = 1011


class Unavailable(ReplayError):
    """This node cannot make data durable right now (disk full or failing).
    Retryable: 1013 (Try Again Later) tells a recorder to reconnect with backoff
    and resend what was not acked."""

    code = "storage_unavailable"
    http_status = 503
    ws_close_code = 1013
