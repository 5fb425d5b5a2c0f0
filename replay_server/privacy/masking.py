"""Server-side masking of recorded events at ingest: what a site's settings say
must be masked is masked here too, whatever the recorder sent, so a misconfigured
or tampered recorder cannot make the server store typed text.

Text inside a contenteditable element (an editing host: the attribute present and
not "false", as the recorder's mask selector says) is typed text too and masked
whatever the settings: snapshot text, added text and text changes under such a
host. Which nodes are inside one is learnt like form fields; when an element
becomes editable later (its descendants are not known here), every text change
and added text of that page is masked from then on.

Masked text keeps its length only: an input value becomes "*" repeated (as rrweb
masks), a text node keeps its whitespace (for layout) and every other character
becomes "*". A value made only of "*" is already masked and left alone.

Which element an `Input` event or a `value` change belongs to is learnt from the
page's full snapshot and added nodes (`PageNodes`). Password fields are masked
whatever the settings, and stay password fields when a "show password" toggle
changes their type. When the page's snapshot was not seen (a server restart
mid-page), values of unknown nodes, text changes and added text are masked: when
in doubt, mask.

Masking goes by position, not by type: a list, number, bytes or map where a
masked value belongs (an Input event's `text`, a `value` attribute, a text)
becomes "" (bytes: "*" per byte); only None (an attribute removed) is kept.

Page text that is not masked keeps its words but not its e-mail addresses (a
`<title>` such as "Account of jane@example.org", "signed in as ..."): they
become `REDACTED`, as in URLs.

Pure: no I/O; the caller counts the rewrites in a metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from replay_server.accounts.site_settings import SiteSettings
from replay_server.privacy.urls import redact_emails
from replay_server.snapshot import EventType, IncrementalSource, NodeType

PASSWORD = "password"
FIELD = "field"  # a value typed or chosen by the visitor: text, email, select, hidden, file...
TEXTAREA = "textarea"
STATIC = "static"  # a value from the page itself: checkbox/radio values, button labels
FORM_TAGS = frozenset({"input", "textarea", "select"})
STATIC_TYPES = frozenset({"checkbox", "radio", "submit", "button", "reset", "image"})
IS_PASSWORD_ATTR = "data-rr-is-password"
EDITABLE_ATTR = "contenteditable"
MAX_TRACKED_NODES = 200_000
PAGES_KEPT = 3
# Plain ints for the per-event path (an enum member read costs ~10x a constant).
_FULL_SNAPSHOT = int(EventType.FULL_SNAPSHOT)
_INCREMENTAL = int(EventType.INCREMENTAL_SNAPSHOT)
_INPUT = int(IncrementalSource.INPUT)
_MUTATION = int(IncrementalSource.MUTATION)
_TEXT = int(NodeType.TEXT)
_ELEMENT = int(NodeType.ELEMENT)


@dataclass(frozen=True)
class MaskPolicy:
    """What a site asks to be masked (Site.settings), as the recorder is told."""

    mask_inputs: bool = True
    mask_text: bool = False

    @classmethod
    def from_settings(cls, settings: SiteSettings | Mapping[str, Any]) -> MaskPolicy:
        s = _typed(settings)
        return cls(mask_inputs=s.mask_all_inputs, mask_text=s.mask_all_text)


@dataclass
class PageNodes:
    """The nodes of one page view that masking needs to know."""

    kinds: dict[int, str] = field(default_factory=dict)  # form elements
    textarea_texts: set[int] = field(default_factory=set)
    style_nodes: set[int] = field(default_factory=set)  # <style>/<script> and their texts
    editable: set[int] = field(default_factory=set)  # contenteditable hosts and everything inside
    late_editable: bool = False  # an element became editable: its descendants are unknown
    complete: bool = False  # the page's full snapshot was seen

    def reset(self) -> None:
        self.kinds.clear()
        self.textarea_texts.clear()
        self.style_nodes.clear()
        self.editable.clear()
        self.late_editable = False
        self.complete = True

    def size(self) -> int:
        return (
            len(self.kinds) + len(self.textarea_texts) + len(self.style_nodes) + len(self.editable)
        )


@dataclass
class SessionNodes:
    """PageNodes of a session's latest page views (older pages may still resend)."""

    pages: dict[int, PageNodes] = field(default_factory=dict)

    def page(self, page: int) -> PageNodes:
        nodes = self.pages.get(page)
        if nodes is None:
            nodes = self.pages[page] = PageNodes()
            for old in sorted(self.pages)[:-PAGES_KEPT]:
                del self.pages[old]
        return nodes


def honours_dnt(settings: SiteSettings | Mapping[str, Any]) -> bool:
    """Whether the site respects Do Not Track / Global Privacy Control (default: yes)."""
    return _typed(settings).honor_dnt


def _typed(settings: SiteSettings | Mapping[str, Any]) -> SiteSettings:
    # A Mapping is a Site.settings as stored.
    return settings if isinstance(settings, SiteSettings) else SiteSettings.from_stored(settings)


def browser_says_no(headers: Mapping[str, str]) -> bool:
    """The request carries Do Not Track (`DNT: 1`) or Global Privacy Control (`Sec-GPC: 1`)."""
    return headers.get("DNT", "").strip() == "1" or headers.get("Sec-GPC", "").strip() == "1"


def mask_value(value: str) -> str | None:
    """The masked form of an input value, or None when it is already masked."""
    if all(ch == "*" for ch in value):
        return None
    return "*" * len(value)


def mask_text(value: str) -> str | None:
    """The masked form of page text (whitespace kept), or None when already masked."""
    if all(ch == "*" or ch.isspace() for ch in value):
        return None
    return "".join(ch if ch.isspace() else "*" for ch in value)


def is_editable(value: object) -> bool:
    """Whether a contenteditable attribute's value makes an editing host (None: absent)."""
    if value is None:
        return False
    return not (isinstance(value, str) and value.strip().lower() == "false")


def _masked_other(value: object) -> str:
    # a non-string where a masked value belongs: nothing of it is kept
    return "*" * len(value) if isinstance(value, (bytes, bytearray)) else ""


def mask_events(events: list[dict[str, Any]], nodes: PageNodes, policy: MaskPolicy) -> int:
    """Mask `events` (validated rrweb events of one page) in place; return how many
    values were rewritten."""
    masker = _Masker(nodes, policy)
    for event in events:
        masker.event(event)
    if masker.saw_nodes and nodes.size() > MAX_TRACKED_NODES:
        # a hostile page: stop trusting what we know
        nodes.reset()
        nodes.complete = False
    return masker.count


def _element_kind(tag: str, attributes: Mapping[str, Any], previous: str | None) -> str | None:
    if tag not in FORM_TAGS:
        return None
    if previous == PASSWORD or IS_PASSWORD_ATTR in attributes:
        return PASSWORD  # sticky: a revealed password is still a password
    if tag == "textarea":
        return TEXTAREA
    if tag == "select":
        return FIELD
    kind = str(attributes.get("type") or "text").strip().lower()
    if kind == PASSWORD:
        return PASSWORD
    return STATIC if kind in STATIC_TYPES else FIELD


class _Masker:
    def __init__(self, nodes: PageNodes, policy: MaskPolicy) -> None:
        self.nodes = nodes
        self.policy = policy
        self.count = 0
        self.saw_nodes = False  # a snapshot or added nodes: what is known may have grown

    def masks(self, kind: str | None, *, input_event: bool = False) -> bool:
        if kind == PASSWORD:
            return True
        if kind in (FIELD, TEXTAREA):
            return self.policy.mask_inputs
        if kind == STATIC:
            return False
        # unknown node: an Input event is always a form field; a value change may not be
        if not self.nodes.complete:
            return True
        return input_event and self.policy.mask_inputs

    def value(self, holder: dict[str, Any], key: str, *, text: bool = False) -> None:
        current = holder.get(key)
        if current is None:
            return  # absent, or an attribute removed
        if isinstance(current, str):
            masked = mask_text(current) if text else mask_value(current)
        else:
            masked = _masked_other(current)
        if masked is not None:
            holder[key] = masked
            self.count += 1

    def emails(self, holder: dict[str, Any], key: str) -> None:
        """Page text is kept, but not e-mail addresses (a page's <title>, "signed in as")."""
        current = holder.get(key)
        if isinstance(current, str) and ("@" in current or "%40" in current):
            redacted = redact_emails(current)
            if redacted != current:
                holder[key] = redacted
                self.count += 1  # also tells the caller the events were rewritten

    def event(self, event: dict[str, Any]) -> None:
        data = event.get("data")
        if not isinstance(data, dict):
            return
        kind = event.get("type")
        if kind == _INCREMENTAL:
            source = data.get("source")
            if source == _INPUT:
                node_id = _id(data)
                kind = self.nodes.kinds.get(node_id) if node_id is not None else None
                if self.masks(kind, input_event=True):
                    self.value(data, "text")
            elif source == _MUTATION:
                self.mutation(data)
        elif kind == _FULL_SNAPSHOT:
            self.nodes.reset()
            node = data.get("node")
            if isinstance(node, dict):
                self.tree(node, None, editable=False)

    def mutation(self, data: dict[str, Any]) -> None:
        adds, attributes, texts = data.get("adds"), data.get("attributes"), data.get("texts")
        if adds:
            for add in _maps(adds):
                node = add.get("node")
                if isinstance(node, dict):
                    parent = add.get("parentId")
                    self.tree(node, self.parent_tag(parent), editable=self.adds_editable(parent))
        if attributes:
            for change in _maps(attributes):
                changed = change.get("attributes")
                if isinstance(changed, dict):
                    self.attribute_change(_id(change), changed)
        if texts:
            for text in _maps(texts):
                node_id = _id(text)
                if node_id in self.nodes.textarea_texts:
                    if self.policy.mask_inputs:
                        self.value(text, "value")
                elif node_id not in self.nodes.style_nodes:
                    if self.masks_text(node_id):
                        self.value(text, "value", text=True)
                    else:
                        self.emails(text, "value")

    def adds_editable(self, parent_id: object) -> bool:
        """Whether nodes added under this parent are inside an editing host (or may be)."""
        nodes = self.nodes
        if nodes.late_editable or not nodes.complete:
            return True
        return isinstance(parent_id, int) and parent_id in nodes.editable

    def masks_text(self, node_id: int | None) -> bool:
        """Whether a change to this (non-style) text node is masked."""
        nodes = self.nodes
        return (
            self.policy.mask_text
            or node_id in nodes.editable
            or nodes.late_editable
            or not nodes.complete
        )

    def parent_tag(self, parent_id: object) -> str | None:
        if not isinstance(parent_id, int):
            return None
        if self.nodes.kinds.get(parent_id) == TEXTAREA:
            return "textarea"
        return "style" if parent_id in self.nodes.style_nodes else None

    def attribute_change(self, node_id: int | None, attributes: dict[str, Any]) -> None:
        kinds = self.nodes.kinds
        if node_id is not None and node_id in kinds:
            if IS_PASSWORD_ATTR in attributes:
                kinds[node_id] = PASSWORD
            elif "type" in attributes and kinds[node_id] not in (PASSWORD, TEXTAREA):
                kinds[node_id] = _element_kind("input", attributes, kinds[node_id]) or FIELD
        if node_id is not None and is_editable(attributes.get(EDITABLE_ATTR)):
            if node_id not in self.nodes.editable:
                self.nodes.editable.add(node_id)
                self.nodes.late_editable = True
        kind = kinds.get(node_id) if node_id is not None else None
        if "value" in attributes and self.masks(kind):
            self.value(attributes, "value")

    def tree(self, root: dict[str, Any], root_parent_tag: str | None, *, editable: bool) -> None:
        """Mask a serialized subtree; `editable`: its parent is inside an editing host."""
        self.saw_nodes = True
        stack: list[tuple[dict[str, Any], str | None, bool]] = [(root, root_parent_tag, editable)]
        while stack:
            node, parent_tag, inside = stack.pop()
            inside = inside or self.starts_editable(node)
            node_id = _id(node)
            if inside and node_id is not None:
                self.nodes.editable.add(node_id)
            tag = self.node(node, parent_tag, inside)
            for child in _maps(node.get("childNodes")):
                stack.append((child, tag, inside))

    @staticmethod
    def starts_editable(node: dict[str, Any]) -> bool:
        attributes = node.get("attributes")
        return (
            node.get("type") == _ELEMENT
            and isinstance(attributes, dict)
            and is_editable(attributes.get(EDITABLE_ATTR))
        )

    def node(self, node: dict[str, Any], parent_tag: str | None, editable: bool) -> str | None:
        """Mask one serialized node; return its tag (for its children)."""
        node_type, node_id = node.get("type"), _id(node)
        if node_type == _TEXT:
            self.text_node(node, node_id, parent_tag, editable)
            return None
        if node_type != _ELEMENT:
            return None
        tag = str(node.get("tagName", "")).lower()
        attributes = node.get("attributes")
        if not isinstance(attributes, dict):
            return tag
        previous = self.nodes.kinds.get(node_id) if node_id is not None else None
        kind = _element_kind(tag, attributes, previous)
        if node_id is not None:
            if kind is not None:
                self.nodes.kinds[node_id] = kind
            if tag in ("style", "script"):
                self.nodes.style_nodes.add(node_id)
        if kind is not None and "value" in attributes and self.masks(kind):
            self.value(attributes, "value")
        if tag == "option" and self.policy.mask_inputs and attributes.pop("selected", None):
            self.count += 1  # which option is chosen is an input too
        return tag

    def text_node(
        self, node: dict[str, Any], node_id: int | None, parent_tag: str | None, editable: bool
    ) -> None:
        if parent_tag == "textarea":
            if node_id is not None:
                self.nodes.textarea_texts.add(node_id)
            if self.policy.mask_inputs:
                self.value(node, "textContent")
        elif parent_tag in ("style", "script") or node.get("isStyle"):
            if node_id is not None:
                self.nodes.style_nodes.add(node_id)
        elif self.policy.mask_text or editable:
            self.value(node, "textContent", text=True)
        else:
            self.emails(node, "textContent")


def _id(holder: Mapping[str, Any]) -> int | None:
    value = holder.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _maps(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]
