"""No full client IP address in any log line (issue 14 item 4): a table of lines
as the server and aiohttp write them, and what each must become."""

from __future__ import annotations

import logging

import pytest

from replay_server.logs import RedactingFormatter, redact_ips

LINES = [
    # IPv4: alone, at the end of a sentence, with a port, in URLs, quoted.
    ("client 203.0.113.77 refused", "client 203.0.113.0 refused"),
    ("refused a hello from 203.0.113.77.", "refused a hello from 203.0.113.0."),
    ("from 203.0.113.77...", "from 203.0.113.0..."),
    ("peer 203.0.113.77:51234 closed", "peer 203.0.113.0:51234 closed"),
    ("GET http://203.0.113.77/x failed", "GET http://203.0.113.0/x failed"),
    ("GET http://203.0.113.77:8321/x?y=1", "GET http://203.0.113.0:8321/x?y=1"),
    ("ip=203.0.113.77, next", "ip=203.0.113.0, next"),
    ("ip:203.0.113.77;", "ip:203.0.113.0;"),
    ("'203.0.113.77'", "'203.0.113.0'"),
    ("(203.0.113.77)", "(203.0.113.0)"),
    # IPv4-mapped IPv6, as a dual-stack listener reports IPv4 clients.
    ("Error handling request from ::ffff:203.0.113.77", "Error handling request from 203.0.113.0"),
    ("from ::ffff:203.0.113.77.", "from 203.0.113.0."),
    ("from ::FFFF:203.0.113.77:443", "from 203.0.113.0:443"),
    ("from ::ffff:cb00:714d", "from 203.0.113.0"),
    ("http://[::ffff:203.0.113.77]:8321/", "http://[203.0.113.0]:8321/"),
    # 6to4: the /48 would hold the whole IPv4 address.
    ("from 2002:cb00:714d:1::5", "from 203.0.113.0"),
    # IPv6: compressed, full, upper case, with zone, in brackets with a port, at a sentence end.
    ("client 2001:db8:1:2::5 refused", "client 2001:db8:1:: refused"),
    (
        "client 2001:0db8:0001:0002:0003:0004:0005:0006 refused",
        "client 2001:db8:1:: refused",
    ),
    ("client 2001:DB8:1:2:3:4:5:6.", "client 2001:db8:1::."),
    ("client fe80::1:2:3%eth0 x", "client fe80:: x"),
    ("http://[2001:db8:1:2::5]:8321/x", "http://[2001:db8:1::]:8321/x"),
    ("ip:2001:db8:1:2::5", "ip:2001:db8:1::"),
    # Not addresses: left alone.
    ("took 12:34:56.789 at 10:00", "took 12:34:56.789 at 10:00"),
    ("Class::method and std::vector", "Class::method and std::vector"),
    ("version 3.12.1 and 1.2.3", "version 3.12.1 and 1.2.3"),
    ("sha deadbeefcafe e.g. a.b.c.d", "sha deadbeefcafe e.g. a.b.c.d"),
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_redact_ips(line: str, expected: str) -> None:
    assert redact_ips(line) == expected


def test_the_text_formatter_redacts_mapped_addresses_in_messages() -> None:
    record = logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request from %s",
        ("::ffff:203.0.113.77",),
        None,
    )
    line = RedactingFormatter("%(message)s").format(record)
    assert "113.77" not in line and line.endswith("203.0.113.0")
