"""Country from the IP (offline), the IP as stored per ip_mode, referrer
domain, UTM parameters and URL paths."""

from __future__ import annotations

import pytest

from replay_server.enrich.visitmeta import (
    IptoccCountries,
    country_of,
    referrer_domain,
    stored_ip,
    url_path,
    utm_params,
    visit_origin,
)


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("81.2.69.142", "GB"),
        ("8.8.8.8", "US"),
        ("2001:4860:4860::8888", "US"),
        ("127.0.0.1", ""),  # loopback and private ranges have no country
        ("10.1.2.3", ""),
        ("::1", ""),
        ("not an ip", ""),
        (None, ""),
    ],
)
def test_country_of(address: str | None, country: str) -> None:
    assert country_of(address) == country


@pytest.mark.parametrize(
    ("address", "mode", "stored"),
    [
        ("81.2.69.142", "truncated", "81.2.69.0"),
        ("81.2.69.142", "none", ""),
        ("81.2.69.142", "full", "81.2.69.142"),
        ("2001:db8:1234:5678:9abc::1", "truncated", "2001:db8:1234::"),
        ("2001:db8:1234:5678:9abc::1", "full", "2001:db8:1234:5678:9abc::1"),
        ("81.2.69.142", "bogus", ""),  # an unknown mode stores nothing
        ("garbage", "full", ""),
        (None, "truncated", ""),
    ],
)
def test_stored_ip(address: str | None, mode: str, stored: str) -> None:
    assert stored_ip(address, mode) == stored


def test_country_comes_from_the_full_address_before_truncation() -> None:
    origin = visit_origin("81.2.69.142", "none", IptoccCountries())
    assert origin.country == "GB" and origin.ip == ""


@pytest.mark.parametrize(
    ("referrer", "domain"),
    [
        ("https://www.Google.com/search?q=x", "google.com"),
        ("http://news.ycombinator.com/item?id=1", "news.ycombinator.com"),
        ("", ""),
        ("not a url", ""),
        ("http://[::1", ""),
    ],
)
def test_referrer_domain(referrer: str, domain: str) -> None:
    assert referrer_domain(referrer) == domain


def test_utm_params() -> None:
    url = "https://shop.example/?utm_source=news&utm_medium=email&utm_campaign=bf%2024&x=1"
    assert utm_params(url) == {
        "utm_source": "news",
        "utm_medium": "email",
        "utm_campaign": "bf 24",
        "utm_term": "",
        "utm_content": "",
    }
    assert utm_params("https://shop.example/?utm_term=" + "a" * 500)["utm_term"] == "a" * 200
    assert set(utm_params("http://[::1").values()) == {""}


def test_url_path() -> None:
    assert url_path("https://shop.example/cart/checkout?step=2#x") == "/cart/checkout"
    assert url_path("https://shop.example") == "/"
    assert url_path("/only/a/path") == "/only/a/path"
