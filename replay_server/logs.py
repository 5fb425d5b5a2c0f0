"""Logging set-up: text or JSON lines on stderr (REPLAY_LOG_FORMAT,
REPLAY_LOG_LEVEL), and no full client IP address in any log (docs/privacy.md):

- the access log format names no client (no `%a`, no X-Forwarded-For), no
  Referer (the client site's page URL) and no User-Agent;
- every formatted line, aiohttp's own "Error handling request from <ip>" and
  tracebacks included, has each IP address in it truncated to its /24 (IPv4)
  or /48 (IPv6) network before it is written.
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
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![\w:])")
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


def truncate_ip(address: str) -> str:
    """`203.0.113.77` -> `203.0.113.0`, `2001:db8:1:2::5` -> `2001:db8:1::`;
    what is not an IP address is returned unchanged."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = IPV4_KEEP_BITS if ip.version == 4 else IPV6_KEEP_BITS
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


def redact_ips(text: str) -> str:
    """Every IPv4 and IPv6 address in `text`, truncated."""
    text = _IPV6.sub(lambda m: truncate_ip(m.group(0)), text)
    return _IPV4.sub(lambda m: truncate_ip(m.group(0)), text)


class RedactingFormatter(logging.Formatter):
    """The text format, with IP addresses truncated."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_ips(super().format(record))


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
        return redact_ips(json.dumps(entry, ensure_ascii=False))


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
