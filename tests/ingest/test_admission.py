"""Admission bookkeeping: per-address keys (IPv6 by /64), caps, the budget of
bytes being received and the deadline sweep."""

from __future__ import annotations

import pytest

from replay_server.errors import RateLimited
from replay_server.ingest.admission import Admission, Budget, Deadlines, address_key


def test_ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2::9")
    assert address_key("2001:db8:1:3::9") != address_key("2001:db8:1:2::9")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7" == address_key("192.0.2.7")
    assert address_key(None) is None


def test_caps_per_node_and_per_address() -> None:
    admission = Admission(max_connections=3, max_per_ip=2, inflight=Budget(0))
    assert admission.open_tcp("192.0.2.1") is None
    assert admission.open_tcp("192.0.2.1") is None
    refusal = admission.open_tcp("192.0.2.1")
    assert refusal is not None and refusal.code == "too_many_connections"
    assert admission.open_tcp(None) is None  # a trusted proxy: the node total only
    refusal = admission.open_tcp("192.0.2.2")
    assert refusal is not None and refusal.code == "server_busy"
    admission.close_tcp("192.0.2.1")
    assert admission.open_tcp("192.0.2.2") is None
    with admission.recorders.slot("2001:db8::1"), admission.recorders.slot("2001:db8::2"):
        with pytest.raises(RateLimited) as refused, admission.recorders.slot("2001:db8::3"):
            pass
        assert refused.value.code == "too_many_connections"
    assert admission.recorders["2001:db8::/64"] == 0


def test_the_budget_refuses_past_its_limit_and_counts_big_releases() -> None:
    budget = Budget(10 << 20)
    with budget.held(8 << 20):
        with pytest.raises(RateLimited) as refused, budget.held(4 << 20):
            pass
        assert refused.value.code == "server_busy"
    assert budget.used == 0 and budget.take_released() == 8 << 20 and budget.take_released() == 0


def test_deadlines_fire_once_when_due() -> None:
    deadlines = Deadlines()
    fired: list[str] = []
    deadlines.arm("a", 1.0, lambda: fired.append("a"))
    deadlines.arm("b", 5.0, lambda: fired.append("b"))
    deadlines.arm("c", 1.0, lambda: fired.append("c"))
    deadlines.disarm("c")
    assert deadlines.sweep(2.0) == 1 and fired == ["a"]
    assert deadlines.sweep(2.0) == 0 and len(deadlines) == 1
