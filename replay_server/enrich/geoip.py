"""Country from a MaxMind-format database (GeoLite2-Country, GeoIP2-Country,
DB-IP country lite...) when `REPLAY_GEOIP_MMDB` names one: the record's
`country.iso_code`, else its `registered_country.iso_code` (IPinfo's files, whose
`country` is the code itself, work too). An address the file
does not know (or knows without a country) falls back to iptocc.

The file is opened once per app (memory-mapped, MODE_AUTO: the C extension when
it is installed), in a cleanup context; a lookup is a walk of the mapped search
tree, microseconds, done once per recorder connection (at its hello)."""

from __future__ import annotations

import ipaddress
import logging
import time

import maxminddb
from maxminddb.types import Record

from replay_server.enrich.visitmeta import CountryLookup, IptoccCountries
from replay_server.errors import ConfigError

COUNTRY_FIELDS = ("country", "registered_country")

log = logging.getLogger(__name__)


class MmdbCountries:
    def __init__(self, reader: maxminddb.Reader, fallback: CountryLookup) -> None:
        self._reader = reader
        self._fallback = fallback

    def country(self, address: str | None) -> str:
        if not address:
            return ""
        try:
            ip = ipaddress.ip_address(address)
            record = self._reader.get(ip)
        except ValueError:  # not an address, IPv6 in an IPv4-only database, closed
            record = None
        except maxminddb.InvalidDatabaseError:  # a damaged record: the table decides
            record = None
        return iso_code(record) or self._fallback.country(address)

    def close(self) -> None:
        self._reader.close()


def iso_code(record: Record | None) -> str:
    """The two-letter code of a country database's record ("" when it has none)."""
    if not isinstance(record, dict):
        return ""
    for name in COUNTRY_FIELDS:
        part = record.get(name)
        code = part.get("iso_code") if isinstance(part, dict) else part
        if isinstance(code, str) and len(code) == 2 and code.isascii() and code.isalpha():
            return code.upper()
    return ""


def open_mmdb_countries(path: str) -> MmdbCountries:
    """Open `path` (blocking: call it in a thread); a missing or invalid file is a
    ConfigError that stops start-up."""
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as e:
        raise ConfigError(
            f"REPLAY_GEOIP_MMDB: cannot open {path!r} as a MaxMind database: {e}"
        ) from e
    meta = reader.metadata()
    built = time.strftime("%Y-%m-%d", time.gmtime(meta.build_epoch))
    log.info("country lookups: %s (%s, built %s)", path, meta.database_type, built)
    return MmdbCountries(reader, IptoccCountries())
