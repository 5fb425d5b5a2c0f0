"""Logging set-up: text or JSON lines on stderr (REPLAY_LOG_FORMAT,
REPLAY_LOG_LEVEL), and no full client IP address in any log (docs/privacy.md):

- the access log format names no client (no `%a`, no X-Forwarded-For), no
  Referer (the client site's page URL) and no User-Agent;
- every formatted line, aiohttp's own "Error handling request from <ip>" and
  tracebacks included, has each IP address in it truncated to its /24 (IPv4)
  or /48 (IPv6) network before it is written. An IPv4 address inside an IPv6
  one (mapped, `::ffff:203.0.113.77`, as dual-stack listeners report IPv4
  clients; or 6to4, whose /48 holds it whole) is truncated as IPv4.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sys
from typing import Any

from replay_server.errors import ConfigError
from replay_server.settings import Settings

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# aiohttp access log: request line, status, size, seconds. Never %a or %{...}i.
ACCESS_LOG_FORMAT = '"%r" %s %b %Tf'
IPV4_KEEP_BITS = 24
IPV6_KEEP_BITS = 48
# A run of the characters addresses are written with (zone included); each run
# is then parsed, not pattern-matched, so punctuation around it cannot split an
# address into parts that each escape redaction.
_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]+(?:%[\w.-]+)?")
_DOTTED_QUAD = re.compile(r"(?<!\d)\d{1,3}(?:\.\d{1,3}){3}(?!\d)")
# An invitation link's token (accounts/invitations.py) is a credential, and the
# access log's request line holds the link's path: it never reaches a log.
_INVITATION_TOKEN = re.compile(r"ri_[A-Za-z0-9_-]{43}")
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


def truncate_ip(address: str) -> str:
    """`203.0.113.77` -> `203.0.113.0`, `2001:db8:1:2::5` -> `2001:db8:1::`,
    `::ffff:203.0.113.77` -> `203.0.113.0`; what is not an IP address is
    returned unchanged."""
    ip = _parse_ip(address)
    if ip is None:
        return address
    bits = IPV4_KEEP_BITS if ip.version == 4 else IPV6_KEEP_BITS
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


def redact_ips(text: str) -> str:
    """Every IPv4 and IPv6 address in `text`, truncated."""
    return _CANDIDATE.sub(lambda m: _redact_run(m.group(0)), text)


def redact_secrets(text: str) -> str:
    """redact_ips, and invitation tokens replaced by `ri_…`."""
    return _INVITATION_TOKEN.sub("ri_…", redact_ips(text))


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return embedded
    return ip


def _redact_run(run: str) -> str:
    """`run` with the address in it truncated: tried as it is, without leading
    separators (`ip:1.2.3.4`), without trailing ones (end of a sentence), and
    as `address:port`; failing all, any dotted quad inside it."""
    if run.count(":") < 2 and run.count(".") < 3:
        return run
    heads = dict.fromkeys((0, len(run) - len(run.lstrip(":."))))
    tails = dict.fromkeys((len(run), len(run.rstrip(".")), len(run.rstrip(".:"))))
    for head in heads:
        for tail in tails:
            core = run[head:tail]
            if _parse_ip(core) is not None:
                return run[:head] + truncate_ip(core) + run[tail:]
            host, _, port = core.rpartition(":")
            if port.isdigit() and "." in host and _parse_ip(host) is not None:
                return f"{run[:head]}{truncate_ip(host)}:{port}{run[tail:]}"
    return _DOTTED_QUAD.sub(lambda m: truncate_ip(m.group(0)), run)


class RedactingFormatter(logging.Formatter):
    """The text format, with IP addresses truncated."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's extra
    fields and the exception, if any (IP addresses truncated)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact_secrets(json.dumps(entry, ensure_ascii=False))


def check_logging_settings(settings: Settings) -> None:
    if settings.log_level.lower() not in LOG_LEVELS:
        raise ConfigError(f"REPLAY_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    if settings.log_format.lower() not in LOG_FORMATS:
        raise ConfigError(f"REPLAY_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")


def configure_logging(settings: Settings) -> None:
    """The root logger writes to stderr in the configured format."""
    check_logging_settings(settings)
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format.lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
