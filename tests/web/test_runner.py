"""Running the server (web/runner.py): the soft descriptor limit is raised to
the hard one, the connection cap follows it (or the setting), and the guarded
site gets the settings' timeouts and sizes."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from replay_server import keys
from replay_server.app import create_app
from replay_server.settings import Settings
from replay_server.web.runner import FD_CEILING, FD_RESERVE, connection_cap, guard_config

RAISE = """
import resource
from replay_server.web.runner import raise_fd_limit
print(raise_fd_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    # In a child process: the limit is the process's own.
    out = subprocess.run(
        [sys.executable, "-c", RAISE],
        preexec_fn=low_soft_limit,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    expected = FD_CEILING if hard == resource.RLIM_INFINITY else min(hard, FD_CEILING)
    assert [int(v) for v in out] == [expected, expected]


def test_the_connection_cap_follows_the_limit_or_the_setting() -> None:
    assert connection_cap(Settings(), 10_000) == 10_000 - FD_RESERVE
    assert connection_cap(Settings(), 100) == 16  # never below a handful
    assert connection_cap(Settings(max_connections=50), 10_000) == 50


def test_the_guarded_site_gets_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        http_header_timeout_seconds=3.5,
        frame_timeout_seconds=7.0,
        max_hello_frame_bytes=4096,
    )
    app = create_app(settings)
    config = guard_config(settings, app)
    assert config.admission is app[keys.ADMISSION] and config.metrics is app[keys.METRICS]
    assert (config.header_timeout, config.frame_timeout) == (3.5, 7.0)
    assert (config.hello_frame_bytes, config.max_frame_bytes) == (4096, settings.max_frame_bytes)
