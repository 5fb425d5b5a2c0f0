"""Attribute changes of an element since it was built, coalesced without changing their effect.

The replayer builds an element from its serialized attributes (with special
cases: `_cssText`, a textarea's value, `on*` handlers renamed, a CSP meta...)
but applies attribute mutations with setAttribute, removeAttribute and, for
a style given as an object, style.setProperty/removeProperty. So a keyframe
cannot fold changes into the serialized attributes: it rebuilds the element as
it was built and replays its changes after, as one attribute mutation. What is
kept is the shortest list with the same effect: the last value per attribute,
and for `style`, its last string (or removal) followed by the property
changes made since, consecutive changes of the same properties merged.
"""

from __future__ import annotations

from typing import Any

from replay_server.chunks.keyframes.trust import Untrusted

Change = tuple[str, Any]  # (attribute name, value: str | None | style changes dict)


def set_attribute(changes: list[Change], name: str, value: str | None) -> None:
    """A string value or a removal replaces every earlier change of `name`
    (for `style`, its property changes too)."""
    changes[:] = [change for change in changes if change[0] != name]
    changes.append((name, value))


def change_style(changes: list[Change], properties: dict[str, Any], max_groups: int) -> None:
    """Property changes (value, [value, priority] or False to remove), in the
    order the replayer applies them (JavaScript's key order: no property name
    is an array index)."""
    last = next((c for c in reversed(changes) if c[0] == "style"), None)
    if last is not None and isinstance(last[1], dict) and _absorbs(last[1], properties):
        changes.remove(last)
    elif sum(1 for c in changes if c[0] == "style") >= max_groups:
        raise Untrusted("too many unmerged style changes on one element")
    changes.append(("style", dict(properties)))


def _absorbs(earlier: dict[str, Any], later: dict[str, Any]) -> bool:
    """Whether applying `later` alone has the effect of `earlier` then `later`:
    the same properties in the same order (a property set again stays in its
    place or is appended in the same order), none removed then set again."""
    if list(earlier) != list(later):
        return False
    return not any(earlier[p] is False and later[p] is not False for p in later)
