"""A frame worker's failure text (an exception, which may hold paths or data)
goes to the log, never to the recorder (issue 14 item 8)."""

from __future__ import annotations

import pytest

from replay_server.ingest.prep.workers import WorkerLost, _checked
from replay_server.ws_recorder import public_error

FAILURE = "FileNotFoundError: [Errno 2] No such file or directory: '/srv/replay/secret.db'"


def test_a_workers_failure_text_is_logged_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(WorkerLost) as lost:
        _checked(FAILURE)
    assert "/srv/replay" not in lost.value.message
    assert public_error(lost.value) == ("server_error", "internal server error")
    assert "/srv/replay/secret.db" in caplog.text
