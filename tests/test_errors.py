"""Domain errors and the statuses and close codes the edge maps them to
(docs/protocol.md): a code given at raise time overrides the class's."""

from __future__ import annotations

import pytest

from replay_server.errors import (
    ConfigError,
    CorruptChunk,
    Forbidden,
    InvalidMessage,
    NotFound,
    RateLimited,
    ReplayError,
    StorageError,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnknownSite,
)


@pytest.mark.parametrize(
    ("cls", "code", "status", "close"),
    [
        (ReplayError, "error", 400, 4400),
        (InvalidMessage, "invalid_message", 400, 4400),
        (UnknownSite, "unknown_site", 401, 4401),
        (Forbidden, "forbidden", 403, 4403),
        (TooLarge, "too_large", 413, 4413),
        (RateLimited, "rate_limited", 429, 4429),
        (ConfigError, "config_error", 500, 1011),
        (CorruptChunk, "corrupt_chunk", 500, 1011),
        (StorageError, "storage_error", 503, 1011),
        (Unavailable, "storage_unavailable", 503, 1013),
        (NotFound, "not_found", 404, 4400),
        (Unauthorized, "unauthorized", 401, 4400),
    ],
)
def test_codes(cls: type[ReplayError], code: str, status: int, close: int) -> None:
    error = cls("what happened")
    assert (error.code, error.http_status, error.ws_close_code) == (code, status, close)
    assert error.message == "what happened"
    assert str(error) == "what happened"
    assert isinstance(error, ReplayError)


def test_a_code_given_when_raised_wins_for_that_error_only() -> None:
    error = InvalidMessage("bad", code="invalid_parameter")
    assert (error.code, error.http_status) == ("invalid_parameter", 400)
    assert InvalidMessage("bad").code == "invalid_message"
