"""Under CI (CI=true), a skipped service test (marked postgres, redis or s3) is a
failure: a CI run cannot pass without having run them against real services.
Locally such tests skip when their service is not configured."""

from __future__ import annotations

import os
from typing import Any

import pytest

SERVICE_MARKERS = ("postgres", "redis", "s3")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.skipped and in_ci() and any(item.get_closest_marker(m) for m in SERVICE_MARKERS):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI must run every service test, but it was skipped: {reason}"
    return report
