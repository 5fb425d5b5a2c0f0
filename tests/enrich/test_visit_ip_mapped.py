"""A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`: what is stored
and the country must be the same as for the plain IPv4 address (issue 14 item 4)."""

from __future__ import annotations

import pytest

from replay_server.enrich.visitmeta import country_of, stored_ip


@pytest.mark.parametrize("mapped", ["::ffff:8.8.8.8", "::FFFF:808:808"])
def test_a_mapped_ipv4_address_is_stored_as_ipv4(mapped: str) -> None:
    assert stored_ip(mapped, "truncated") == stored_ip("8.8.8.8", "truncated") == "8.8.8.0"
    assert stored_ip(mapped, "full") == "8.8.8.8"
    assert stored_ip(mapped, "none") == ""
    assert country_of(mapped) == country_of("8.8.8.8") != ""


def test_a_6to4_address_is_truncated_to_its_ipv4_24() -> None:
    # Its /48 is 2002:AABB:CCDD::, the whole IPv4 address.
    assert stored_ip("2002:808:808:1::5", "truncated") == "8.8.8.0"


def test_plain_ipv6_keeps_its_48() -> None:
    assert stored_ip("2001:4860:4860::8888", "truncated") == "2001:4860:4860::"
