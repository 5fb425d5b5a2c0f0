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

# Per element: attribute name -> last value (str or None: removed), except
# "style" -> its changes in order: a string or None first, then property groups.
Changes = dict[str, Any]


def set_attribute(changes: Changes, name: str, value: str | None) -> None:
    """A string value or a removal replaces every earlier change of `name`
    (for `style`, its property changes too). Different names do not interact:
    their order does not matter."""
    changes.pop(name, None)
    changes[name] = [value] if name == "style" else value


def change_style(changes: Changes, properties: dict[str, Any], max_groups: int) -> None:
    """Property changes (value, [value, priority] or False to remove), in the
    order the replayer applies them (JavaScript's key order: no property name
    is an array index)."""
    style: list[Any] = changes.setdefault("style", [])
    last = style[-1] if style else None
    if isinstance(last, dict) and _absorbs(last, properties):
        style.pop()
    elif len(style) >= max_groups:
        raise Untrusted("too many unmerged style changes on one element")
    style.append(dict(properties))


def emitted(changes: Changes) -> list[tuple[str, Any]]:
    """The changes as the attribute mutations that replay them, in order."""
    out: list[tuple[str, Any]] = []
    for name, value in changes.items():
        if name == "style":
            out.extend(("style", entry) for entry in value)
        else:
            out.append((name, value))
    return out


def _absorbs(earlier: dict[str, Any], later: dict[str, Any]) -> bool:
    """Whether applying `later` alone has the effect of `earlier` then `later`:
    the same properties in the same order (a property set again stays in its
    place or is appended in the same order), none removed then set again."""
    if list(earlier) != list(later):
        return False
    return not any(earlier[p] is False and later[p] is not False for p in later)
