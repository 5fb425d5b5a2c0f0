"""URL redaction: what a recorded URL may keep (docs/privacy.md, "URLs").

URLs carry secrets and personal data: OAuth implicit flows put
`#access_token=...` in the fragment, links put `?email=...&token=...` in the
query. Page views, referrers, rrweb Meta events and the search indexes built on
them keep only the redacted form:

- the fragment is dropped (hash routes included: it is where tokens travel);
- userinfo (`user:pass@`) is dropped;
- the value of a query parameter whose name looks secret or personal becomes
  `REDACTED` (names: `DEFAULT_FRAGMENTS` anywhere in the name, `DEFAULT_WORDS`
  as a whole word of it), unless the site allows the name; names the site
  denies are redacted too;
- an e-mail address anywhere (plain or with `%40`) becomes `REDACTED`.

The recorder applies the same rules (recorder-js/src/urls.ts) but the server
does not trust it. Pure: no I/O. Idempotent: a redacted URL stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "REDACTED"
# A URL this long was cut at ingest (protocol.MAX_URL), maybe inside an e-mail
# address, or is absurd: only its origin is kept.
MAX_URL_CHARS = 8192
_META = 4  # rrweb EventType.Meta: data.href is the page's URL

# Anywhere in the lower-cased name, separators removed ("access_token", "apiKey",
# "X-Session-Id", "user_email", "phoneNumber", "authorization", "passwd").
DEFAULT_FRAGMENTS: tuple[str, ...] = (
    "token",
    "secret",
    "passw",
    "pwd",
    "auth",
    "session",
    "apikey",
    "accesskey",
    "privatekey",
    "signature",
    "credential",
    "email",
    "mail",
    "phone",
    "mobile",
    "firstname",
    "lastname",
    "fullname",
    "surname",
    "username",
    "address",
    "birth",
    "ssn",
    "iban",
    "jwt",
    "bearer",
    "saml",
)
# Whole words of the name only ("key", "api_key", "code", "sid", but not
# "monkey", "zipcode" is a word "zipcode": kept; "pin" but not "shipping").
DEFAULT_WORDS: tuple[str, ...] = (
    "key",
    "code",
    "sid",
    "sig",
    "otp",
    "pin",
    "tel",
    "name",
    "user",
    "login",
    "nonce",
    "ticket",
    "cc",
    "cvv",
    "dob",
)

# Bounded repeats (RFC 5321 lengths): unbounded ones backtrack quadratically on
# a long hostile href ("aaa...a@"), 1 s for 8,000 characters.
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]{1,64}(?:@|%40)[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class UrlPolicy:
    """A site's parameter lists (SiteSettings.url_params_allow / _deny), lower case.
    A name in `deny` is always redacted; one in `allow` is kept even when it
    looks secret (a name in both is denied: when in doubt, redact)."""

    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()

    @classmethod
    def from_lists(cls, allow: Iterable[str], deny: Iterable[str]) -> UrlPolicy:
        return cls(frozenset(n.lower() for n in allow), frozenset(n.lower() for n in deny))


def secret_name(name: str, policy: UrlPolicy = UrlPolicy()) -> bool:
    """Whether the value of query parameter `name` (decoded) is redacted."""
    lowered = name.strip().lower()
    if lowered in policy.deny:
        return True
    if lowered in policy.allow:
        return False
    squashed = _SEPARATORS.sub("", lowered)
    if any(fragment in squashed for fragment in DEFAULT_FRAGMENTS):
        return True
    words = {w.lower() for w in _WORD.findall(name)}
    return not words.isdisjoint(DEFAULT_WORDS)


def redact_emails(text: str) -> str:
    return _EMAIL.sub(REDACTED, text)


def redact_url(url: str, policy: UrlPolicy = UrlPolicy()) -> str:
    """`url` as it may be stored. Works on any string (an unparseable href is
    still cut at its fragment and cleared of e-mail addresses)."""
    url = url.split("#", 1)[0]
    if len(url) >= MAX_URL_CHARS:
        url = "/".join(url.split("/", 3)[:3]).split("?", 1)[0] + "/"
    base, question, query = url.partition("?")
    base = _without_userinfo(base)
    if question:
        params = [_redact_param(p, policy) for p in query.split("&")]
        base = f"{base}?{'&'.join(params)}"
    return redact_emails(base)


def _without_userinfo(base: str) -> str:
    scheme, slashes, rest = base.partition("//")
    if not slashes:
        return base
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    return f"{scheme}//{authority}{slash}{path}"


def _redact_param(param: str, policy: UrlPolicy) -> str:
    name, equals, value = param.partition("=")
    if equals and value and secret_name(unquote_plus(name), policy):
        return f"{name}={REDACTED}"
    return param


def redact_event_urls(events: list[dict[str, Any]], policy: UrlPolicy) -> int:
    """Redact the URLs the server reads in validated rrweb events (Meta `href`),
    in place; return how many were rewritten."""
    count = 0
    for event in events:
        if event.get("type") != _META:
            continue
        data = event.get("data")
        href = data.get("href") if isinstance(data, dict) else None
        if isinstance(data, dict) and isinstance(href, str):
            redacted = redact_url(href, policy)
            if redacted != href:
                data["href"] = redacted
                count += 1
    return count
