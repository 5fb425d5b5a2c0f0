"""Token buckets: a refused charge spends nothing anywhere, a charge is one
step whatever its size, and a cost above the burst is not refused forever."""

from __future__ import annotations

import time

import pytest

from replay_server.errors import RateLimited
from replay_server.ingest.ratelimit import RateLimiter, charge


def test_a_refused_charge_spends_no_token_of_any_bucket() -> None:
    session = RateLimiter(1e-6, 10, "session")
    site = RateLimiter(1e-6, 5, "site")
    assert charge([(session, "s", 4), (site, "x", 4)], max_wait=0.0) == 0.0
    with pytest.raises(RateLimited):  # the site has 1 left
        charge([(session, "s", 4), (site, "x", 4)], max_wait=0.0)
    # The session did not pay for the refused charge: its 6 remaining tokens fit.
    assert charge([(session, "s", 6), (site, "x", 1)], max_wait=0.0) == 0.0
    with pytest.raises(RateLimited):
        session.take("s", 1)


def test_a_charge_of_many_messages_is_one_step() -> None:
    limiter = RateLimiter(1e-6, 1000, "site")
    started = time.perf_counter()
    for _ in range(100):
        limiter.take("x", 10)
    assert time.perf_counter() - started < 0.05
    with pytest.raises(RateLimited):
        limiter.take("x", 1)


def test_short_buckets_give_the_wait_and_a_cost_above_the_burst_counts_as_the_burst() -> None:
    limiter = RateLimiter(100, 10, "session")
    limiter.take("s", 10)
    wait = charge([(limiter, "s", 5)], max_wait=1.0)
    assert 0.04 < wait <= 0.05
    time.sleep(0.11)
    assert charge([(limiter, "s", 50)], max_wait=0.0) == 0.0  # 50 > burst: the full bucket


def test_rate_zero_is_no_limit() -> None:
    limiter = RateLimiter(0, 0, "IP address")
    for _ in range(1000):
        limiter.take("1.2.3.4")
