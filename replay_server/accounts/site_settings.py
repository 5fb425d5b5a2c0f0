"""A site's recording and privacy settings (stored in Site.settings JSON), in
one place: `SiteSettings` is their typed form with every default, read
tolerantly from what is stored (`SiteSettings.from_stored`); the validation of
every field an admin can change, from the dashboard's form or from JSON, is
here too. Bad input is a SettingsError that names each offending field;
nothing partial is ever saved."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from replay_server.accounts.origins import InvalidOrigin, normalise_origin
from replay_server.errors import ReplayError

IP_MODES = ("none", "truncated", "full")
MAX_RETENTION_DAYS = 3650
MAX_MOUSEMOVE_SAMPLE_MS = 10_000
MAX_BATCH_MS = 60_000
MAX_SELECTOR_LENGTH = 1000
MAX_ORIGINS = 50
MAX_NAME_LENGTH = 200
BOOL_FIELDS = ("record", "mask_all_inputs", "mask_all_text", "honor_dnt")
SELECTOR_FIELDS = ("block_selector", "mask_text_selector")
NAME_LIST_FIELDS = ("url_params_allow", "url_params_deny")  # privacy/urls.py
MAX_PARAM_NAMES = 100
MAX_PARAM_NAME_LENGTH = 100
_PARAM_NAME = re.compile(r"[^\s&=#?/%]+")
_FORBIDDEN_IN_SELECTOR = re.compile(r"[{};<\x00-\x1f\x7f]")
_CLOSERS = {")": "(", "]": "["}


class SettingsError(ReplayError):
    """One or more fields are invalid: `errors` maps each field to its message."""

    code = "invalid_settings"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SiteSettings:
    """Every site setting with its default. The stored JSON holds the fields an
    admin can change (`stored()`); `batch_ms` is read when present (set by hand)."""

    mask_all_inputs: bool = True
    mask_all_text: bool = False
    block_selector: str = ""
    mask_text_selector: str = ""
    record: bool = True
    sample_rate: float = 1.0  # share of sessions recorded, 0..1
    mousemove_sample_ms: int = 50
    honor_dnt: bool = True  # Do Not Track / Global Privacy Control
    ip_mode: str = "truncated"  # one of IP_MODES
    retention_days: int = 30
    batch_ms: int = 1000  # the recorder's batching interval
    # Query parameter names (lower case) whose values URLs keep / lose (privacy/urls.py).
    url_params_allow: tuple[str, ...] = ()
    url_params_deny: tuple[str, ...] = ()

    @classmethod
    def from_stored(cls, raw: object) -> SiteSettings:
        """Tolerant of what older code or a hand edit stored: unknown keys are
        ignored, a missing or ill-typed value is its default. An unknown
        `ip_mode` stores no IP at all: when in doubt, keep less."""
        stored: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in stored:
                value = _read_stored(f.name, stored[f.name])
                if value is not None:
                    values[f.name] = value
        return cls(**values)

    def stored(self) -> dict[str, Any]:
        """The JSON a new site stores: the fields an admin can change."""
        stored = {k: v for k, v in asdict(self).items() if k in SETTING_FIELDS}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in stored.items()}


def _read_stored(name: str, value: Any) -> Any:
    """A stored value as its field's type, or None for "use the default"."""
    if name in BOOL_FIELDS:
        return value if isinstance(value, bool) else None
    if name in SELECTOR_FIELDS:
        return value if isinstance(value, str) else None
    if name in NAME_LIST_FIELDS:
        try:
            return tuple(_param_names(value))
        except ValueError:
            return None
    if name == "ip_mode":
        return value if value in IP_MODES else "none"
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    if name == "sample_rate":
        return min(1.0, max(0.0, float(value)))  # as it was read before it was validated
    limits = {
        "mousemove_sample_ms": (0, MAX_MOUSEMOVE_SAMPLE_MS),
        "retention_days": (1, MAX_RETENTION_DAYS),
        "batch_ms": (1, MAX_BATCH_MS),
    }
    low, high = limits[name]
    return value if isinstance(value, int) and low <= value <= high else None


@dataclass(frozen=True)
class SiteChanges:
    name: str
    origins: list[str]
    settings: dict[str, Any]


def check_selector(value: str) -> str:
    """A CSS selector list as rrweb will use it (element.matches); "" is none.
    Not a full CSS parser: refuses what cannot be a selector (declarations,
    markup, control characters, unbalanced brackets or quotes, empty parts)."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_SELECTOR_LENGTH:
        raise ValueError(f"at most {MAX_SELECTOR_LENGTH} characters")
    if _FORBIDDEN_IN_SELECTOR.search(value):
        raise ValueError("not a CSS selector (no braces, semicolons, markup or control characters)")
    parts = _split_top_level(value)
    if any(not part.strip() for part in parts):
        raise ValueError("empty selector in the comma-separated list")
    if any(part.strip()[-1] in ">+~" for part in parts):
        raise ValueError("a selector cannot end with a combinator")
    return value


def _split_top_level(value: str) -> list[str]:
    """Split on commas outside brackets and quotes; ValueError when unbalanced."""
    stack: list[str] = []
    quote = ""
    parts, start, i = [], 0, 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            stack.append(ch)
        elif ch in _CLOSERS:
            if not stack or stack.pop() != _CLOSERS[ch]:
                raise ValueError("unbalanced brackets")
        elif ch == "," and not stack:
            parts.append(value[start:i])
            start = i + 1
        i += 1
    if quote or stack:
        raise ValueError("unbalanced quotes or brackets")
    parts.append(value[start:])
    return parts


def _number(raw: Any, kind: type[int] | type[float], low: float, high: float) -> float:
    if isinstance(raw, bool):
        raise ValueError("must be a number")
    try:
        value = kind(str(raw).strip()) if isinstance(raw, str) else kind(raw)
    except (TypeError, ValueError) as e:
        raise ValueError("must be a number") from e
    if math.isnan(value) or not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}")
    return value


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    raise ValueError("must be true or false")


def _selector(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be text")
    return check_selector(raw)


def _param_names(raw: Any) -> list[str]:
    """Query parameter names: a list, or text separated by newlines, commas or
    spaces (the form); lower-cased (names match case-insensitively), de-duplicated."""
    if isinstance(raw, str):
        raw = re.split(r"[\s,]+", raw)
    if not isinstance(raw, list | tuple) or not all(isinstance(n, str) for n in raw):
        raise ValueError("must be a list of parameter names")
    names = list(dict.fromkeys(n.strip().lower() for n in raw if n.strip()))
    if len(names) > MAX_PARAM_NAMES:
        raise ValueError(f"at most {MAX_PARAM_NAMES} names")
    for name in names:
        if len(name) > MAX_PARAM_NAME_LENGTH or not _PARAM_NAME.fullmatch(name):
            raise ValueError(f"{name[:40]!r} is not a parameter name (no spaces, & = # ? / %)")
    return names


def _ip_mode(raw: Any) -> str:
    if raw not in IP_MODES:
        raise ValueError(f"must be one of {', '.join(IP_MODES)}")
    return str(raw)


def _sample_rate(raw: Any) -> float:
    return float(_number(raw, float, 0.0, 1.0))


def _mousemove_ms(raw: Any) -> int:
    return int(_number(raw, int, 0, MAX_MOUSEMOVE_SAMPLE_MS))


def _retention_days(raw: Any) -> int:
    return int(_number(raw, int, 1, MAX_RETENTION_DAYS))


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "record": _bool,
    "mask_all_inputs": _bool,
    "mask_all_text": _bool,
    "block_selector": _selector,
    "mask_text_selector": _selector,
    "sample_rate": _sample_rate,
    "mousemove_sample_ms": _mousemove_ms,
    "honor_dnt": _bool,
    "ip_mode": _ip_mode,
    "retention_days": _retention_days,
    "url_params_allow": _param_names,
    "url_params_deny": _param_names,
}
SETTING_FIELDS = tuple(_CHECKS)  # what an admin can change


def validate_settings(raw: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """`current` updated with the known fields of `raw`, each validated. Unknown
    fields are refused, so a typo never passes silently."""
    errors: dict[str, str] = {}
    result = dict(current)
    for name, value in raw.items():
        check = _CHECKS.get(name)
        if check is None:
            errors[name] = "unknown setting"
            continue
        try:
            result[name] = check(value)
        except ValueError as e:
            errors[name] = str(e)
    both = set(result.get("url_params_allow", ())) & set(result.get("url_params_deny", ()))
    if both and not errors:
        errors["url_params_deny"] = f"also in the allowed names: {', '.join(sorted(both))}"
    if errors:
        raise SettingsError(errors)
    return result


DEFAULT_SITE_SETTINGS: dict[str, Any] = SiteSettings().stored()


def complete_stored(raw: object) -> dict[str, Any]:
    """A site's stored JSON with every field an admin can change, as in effect
    (missing or ill-typed ones at their default); other stored keys are kept."""
    kept = dict(raw) if isinstance(raw, Mapping) else {}
    return {**kept, **SiteSettings.from_stored(kept).stored()}


def parse_origins(text: str) -> list[str]:
    """Origins separated by newlines, commas or spaces, normalised and de-duplicated."""
    items = [item for item in re.split(r"[\s,]+", text) if item]
    if not items:
        raise ValueError("at least one origin is needed (scheme://host[:port])")
    if len(items) > MAX_ORIGINS:
        raise ValueError(f"at most {MAX_ORIGINS} origins")
    try:
        return list(dict.fromkeys(normalise_origin(item) for item in items))
    except InvalidOrigin as e:
        raise ValueError(e.message) from e


def parse_site_form(form: Mapping[str, str], current: Mapping[str, Any]) -> SiteChanges:
    """The settings page's form (checkboxes are absent when unticked; sampling
    is a percentage there) -> validated changes."""
    errors: dict[str, str] = {}
    name = form.get("name", "").strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        errors["name"] = f"1 to {MAX_NAME_LENGTH} characters"
    origins: list[str] = []
    try:
        origins = parse_origins(form.get("origins", ""))
    except ValueError as e:
        errors["origins"] = str(e)
    raw: dict[str, Any] = {f: f in form for f in BOOL_FIELDS}
    raw.update({f: form.get(f, "") for f in (*SELECTOR_FIELDS, "ip_mode")})
    raw["mousemove_sample_ms"] = form.get("mousemove_sample_ms", "")
    raw["retention_days"] = form.get("retention_days", "")
    raw.update({f: form.get(f, "") for f in NAME_LIST_FIELDS})
    settings: dict[str, Any] = dict(current)
    try:
        raw["sample_rate"] = _number(form.get("sample_percent", ""), float, 0, 100) / 100
    except ValueError as e:
        errors["sample_percent"] = str(e)
    try:
        settings = validate_settings(raw, current)
    except SettingsError as e:
        errors.update(e.errors)
    if errors:
        raise SettingsError(errors)
    return SiteChanges(name=name, origins=origins, settings=settings)
