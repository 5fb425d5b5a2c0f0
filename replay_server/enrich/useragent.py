"""Browser, OS and device type from a User-Agent string (ua-parser), cached:
the same few hundred strings make up almost all traffic."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

MAX_UA_LENGTH = 512
_TABLET_HINTS = ("ipad", "tablet", "kindle", "silk", "playbook")


@dataclass(frozen=True)
class ClientInfo:
    browser: str
    browser_version: str
    os: str
    device: str  # desktop | mobile | tablet | bot


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> ClientInfo:
    result = parse(user_agent[:MAX_UA_LENGTH])
    browser = result.user_agent.family if result.user_agent else "Other"
    version = result.user_agent.major or "" if result.user_agent else ""
    os_name = result.os.family if result.os else "Other"
    return ClientInfo(browser, version, os_name, _device_type(user_agent, result))


def _device_type(user_agent: str, result: object) -> str:
    device = getattr(result, "device", None)
    family = (getattr(device, "family", "") or "").lower()
    brand = (getattr(device, "brand", "") or "").lower()
    lowered = user_agent.lower()
    if family == "spider" or "bot" in lowered or "crawler" in lowered or "spider" in lowered:
        return "bot"
    if "tablet" in brand or any(h in lowered for h in _TABLET_HINTS):
        return "tablet"
    if "android" in lowered and "mobile" not in lowered:
        return "tablet"
    if "mobi" in lowered or "iphone" in lowered or family == "iphone":
        return "mobile"
    return "desktop"
