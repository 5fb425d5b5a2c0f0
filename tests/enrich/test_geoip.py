"""Country from a MaxMind-format database (REPLAY_GEOIP_MMDB): a real .mmdb file
is written with mmdb-writer (independent of our reader side), then read by the
lookup on its own and by a live server through the real ingest path (trusted
proxy X-Forwarded-For). Addresses the file does not know fall back to iptocc;
a bad file stops start-up."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from replay_server import keys
from replay_server.app import create_app
from replay_server.enrich.geoip import MmdbCountries, iso_code, open_mmdb_countries
from replay_server.errors import ConfigError
from replay_server.settings import Settings
from tests.conftest import BOTH_DATABASES
from tests.ingest.test_session_metadata import hello, post, session_row
from tests.ingest_server import ORIGIN, IngestServer, start_ingest_server
from tests.rrweb_events import now_ms, page_events

# Each network with a country iptocc would not give it, so a hit proves the file won.
NETWORKS: list[tuple[str, dict[str, Any]]] = [
    ("81.2.69.0/24", {"country": {"iso_code": "NZ"}, "continent": {"code": "OC"}}),  # iptocc: GB
    ("2001:4860:4860::/48", {"country": {"iso_code": "JP"}}),  # iptocc: US
    ("203.0.113.0/24", {"country": {"iso_code": "nz"}}),  # a documentation range
    ("198.51.100.0/24", {"registered_country": {"iso_code": "FR"}}),  # no `country`
    ("192.0.2.0/24", {"country": "DE", "country_name": "Germany"}),  # IPinfo's layout
    ("8.8.4.0/24", {"continent": {"code": "NA"}}),  # known, but without a country
]


def write_mmdb(path: Path, networks: list[tuple[str, dict[str, Any]]] = NETWORKS) -> Path:
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,  # IPv4 under ::/96, where readers look for it
        database_type="GeoLite2-Country",
        languages=["en"],
        description={"en": "replay-server test countries"},
    )
    for network, record in networks:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def mmdb(tmp_path: Path) -> Path:
    return write_mmdb(tmp_path / "countries.mmdb")


@pytest.fixture
def countries(mmdb: Path) -> Iterator[MmdbCountries]:
    lookup = open_mmdb_countries(str(mmdb))
    yield lookup
    lookup.close()


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("81.2.69.142", "NZ"),
        ("2001:4860:4860::8888", "JP"),
        ("2001:4860:4860:0:ffff::1", "JP"),  # anywhere in the /48
        ("203.0.113.77", "NZ"),  # the file may name ranges iptocc leaves out; upper-cased
        ("198.51.100.9", "FR"),  # registered_country when there is no country
        ("192.0.2.1", "DE"),
        ("8.8.4.4", "US"),  # in the file without a country: iptocc
        ("8.8.8.8", "US"),  # not in the file: iptocc
        ("2001:4860:4861::1", "US"),  # next /48, not in the file: iptocc
        ("81.2.70.1", "GB"),
        ("10.1.2.3", ""),  # private: neither knows it
        ("not an ip", ""),
        (None, ""),
    ],
)
def test_lookup(countries: MmdbCountries, address: str | None, country: str) -> None:
    assert countries.country(address) == country


def test_ipv6_in_an_ipv4_only_database_falls_back(tmp_path: Path) -> None:
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "NZ"}})
    writer.to_db_file(str(tmp_path / "v4.mmdb"))
    lookup = open_mmdb_countries(str(tmp_path / "v4.mmdb"))
    try:
        assert lookup.country("81.2.69.1") == "NZ"
        assert lookup.country("2001:4860:4860::8888") == "US"
    finally:
        lookup.close()


@pytest.mark.parametrize(
    "record",
    [None, "NZ", [], {}, {"country": {"iso_code": "NZL"}}, {"country": {"iso_code": "1Z"}}],
)
def test_records_without_a_usable_code(record: Any) -> None:
    assert iso_code(record) == ""


def test_a_missing_or_invalid_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "junk.mmdb").write_bytes(b"\x00" * 4096)
    (tmp_path / "empty.mmdb").write_bytes(b"")
    for path in (tmp_path / "absent.mmdb", tmp_path / "junk.mmdb", tmp_path / "empty.mmdb"):
        with pytest.raises(ConfigError, match="REPLAY_GEOIP_MMDB"):
            open_mmdb_countries(str(path))


async def test_a_bad_file_stops_start_up(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", geoip_mmdb=str(tmp_path / "absent.mmdb"))
    app = create_app(settings)  # pure: the file is only opened at start-up
    with pytest.raises(ConfigError, match=r"absent\.mmdb"):
        await aiohttp_server(app)
    assert not (tmp_path / "data").exists()  # failed before anything else was opened


async def record_from(server: IngestServer, address: str) -> tuple[str, str]:
    sid = str(uuid.uuid4())
    body = {"seq": 0, "page": 0, "events": page_events(now_ms() - 5000)}
    await post(server, {"hello": hello(server, sid, 0, f"{ORIGIN}/"), "batches": [body]}, address)
    row = await session_row(server, sid)
    return row.country, row.ip


@BOTH_DATABASES
async def test_sessions_get_the_country_of_the_file(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    database_url: str,
    mmdb: Path,
) -> None:
    server = await start_ingest_server(
        tmp_path / "data",
        aiohttp_server,
        database_url=database_url,
        trusted_proxies="127.0.0.1, 10.0.0.0/8",
        geoip_mmdb=str(mmdb),
    )
    assert isinstance(server.app[keys.COUNTRIES], MmdbCountries)
    assert await record_from(server, "203.0.113.77") == ("NZ", "203.0.113.0")
    assert await record_from(server, "2001:4860:4860::8888") == ("JP", "2001:4860:4860::")
    assert await record_from(server, "8.8.8.8") == ("US", "8.8.8.0")  # iptocc


@BOTH_DATABASES
async def test_without_the_setting_iptocc_decides(
    tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]], database_url: str
) -> None:
    server = await start_ingest_server(
        tmp_path / "data",
        aiohttp_server,
        database_url=database_url,
        trusted_proxies="127.0.0.1, 10.0.0.0/8",
    )
    assert await record_from(server, "81.2.69.142") == ("GB", "81.2.69.0")
    assert await record_from(server, "203.0.113.77") == ("", "203.0.113.0")
