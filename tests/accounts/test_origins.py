"""The one normalise_origin: as browsers send the Origin header."""

from __future__ import annotations

import pytest

from replay_server.accounts.origins import InvalidOrigin, normalise_origin, origin_or_empty


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Shop.Example:443/path", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://shop.example:8080", "http://shop.example:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://[2001:DB8::1]", "https://[2001:db8::1]"),
        ("http://bücher.example", "http://xn--bcher-kva.example"),
    ],
)
def test_normalise_origin(raw: str, expected: str) -> None:
    assert normalise_origin(raw) == expected
    assert origin_or_empty(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ftp://x.example", "http://", "http://u:p@x.example", "http://x:99999", "null", ""]
)
def test_what_is_not_an_origin(raw: str) -> None:
    with pytest.raises(InvalidOrigin):
        normalise_origin(raw)
    assert origin_or_empty(raw) == ""
