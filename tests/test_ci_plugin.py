"""The CI rule for service tests, checked by running pytest on a small test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = """
import pytest

@pytest.mark.postgres
def test_needs_postgres():
    pytest.skip("REPLAY_TEST_POSTGRES_URL is not set")

def test_plain_skip():
    pytest.skip("not a service test")
"""


def run_sample(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.ci_plugin", "-q", "-rA",
         "-W", "ignore::pytest.PytestUnknownMarkWarning", "-p", "no:cacheprovider",
         "test_sample.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(("ci", "failed"), [("true", True), ("", False)])
def test_a_skipped_service_test_fails_only_in_ci(tmp_path: Path, ci: str, failed: bool) -> None:
    result = run_sample(tmp_path, ci)
    summary = result.stdout.splitlines()[-1]
    if failed:
        assert result.returncode == 1, result.stdout
        assert "1 failed, 1 skipped" in summary
        assert "CI must run every service test" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert "2 skipped" in summary
