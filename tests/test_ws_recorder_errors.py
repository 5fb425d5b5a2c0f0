"""The `error` frame tells the recorder the documented code; when the server
failed, with a generic message only, the details in the log (issue 14 item 8)."""

from __future__ import annotations

import pytest

from replay_server.errors import (
    ConfigError,
    CorruptChunk,
    InvalidMessage,
    StorageError,
    TooLarge,
    Unavailable,
)
from replay_server.ws_recorder import public_error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            StorageError("cannot write blob /srv/replay/blobs/s/1/x: EIO"),
            ("server_error", "internal server error"),
        ),
        (
            CorruptChunk("chunk /srv/replay/blobs/s/1/c0 has bad magic"),
            ("server_error", "internal server error"),
        ),
        (ConfigError("REPLAY_X at /etc/replay.toml"), ("server_error", "internal server error")),
        (
            Unavailable(
                "this node cannot store data now (Read-only file system: '/srv/replay/spool')"
            ),
            ("storage_unavailable", "this node cannot store data now"),
        ),
    ],
)
def test_server_failures_are_sent_generic_and_logged(
    error: StorageError, expected: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    assert public_error(error) == expected
    assert "/srv/replay" in caplog.text or "/etc/replay.toml" in caplog.text


def test_refusals_of_the_recorders_input_keep_their_message() -> None:
    assert public_error(InvalidMessage("seq must be an int")) == (
        "invalid_message",
        "seq must be an int",
    )
    assert public_error(TooLarge("frame over 4 MiB", code="frame_too_large")) == (
        "frame_too_large",
        "frame over 4 MiB",
    )
