"""Synthetic rrweb recordings with every kind of change the mirror models.

`PageWriter` keeps its own small picture of the page (which ids are where) so
the events it writes are what a recorder would send: mutations in rrweb's
shape (adds whose parent or next sibling comes later in the same mutation
included), shadow roots, an iframe's document, style objects, sheet rules,
adopted sheets, scroll, input, pointer. `run_program` turns a list of
(operation, number) pairs (hypothesis draws them) into a recording.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]
START_MS = 1_700_000_000_000
STEP_MS = 10  # between events: a replayer target between two events is unambiguous


class PageWriter:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.ts = START_MS
        self.next_id = 1
        self.kids: dict[int, list[int]] = {}  # element id -> light children
        self.shadow: dict[int, list[int]] = {}
        self.parent: dict[int, tuple[int, bool]] = {}
        self.tags: dict[int, str] = {}
        self.texts: set[int] = set()
        self.doc_of: dict[int, int] = {}  # node -> its document (iframe content: rootId)
        self.inputs: list[int] = []
        self.scrollables: list[int] = []
        self.style_ids: list[int] = []
        self.next_style_id = 1
        self._snapshot()

    # -- recording

    def emit(self, etype: int, data: dict[str, Any]) -> None:
        self.ts += STEP_MS
        self.events.append({"type": etype, "timestamp": self.ts, "data": data})

    def incremental(self, source: int, **data: Any) -> None:
        self.emit(3, {"source": source, **data})

    def mutation(self, **lists: list[Any]) -> None:
        data: dict[str, Any] = {"texts": [], "attributes": [], "removes": [], "adds": []}
        data.update(lists)
        self.incremental(0, **data)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def element(self, tag: str, attributes: dict[str, Any] | None = None, **extra: Any) -> Event:
        nid = self.new_id()
        self.tags[nid] = tag
        self.kids[nid] = []
        node = {"type": 2, "id": nid, "tagName": tag, "attributes": attributes or {}}
        return {**node, "childNodes": [], **extra}

    def text(self, value: str) -> Event:
        nid = self.new_id()
        self.texts.add(nid)
        return {"type": 3, "id": nid, "textContent": value}

    def _snapshot(self) -> None:
        self.doc = 1
        self.next_id = 1
        head_style = self.element("style")
        self.style = head_style["id"]
        css = self.text("p { color: rgb(10, 20, 30); } .wide { width: 300px; }")
        css["isStyle"] = True
        head_style["childNodes"] = [css]
        link = self.element("link", {"rel": "stylesheet", "href": "/late.css"})
        self.link = link["id"]
        head = self.element("head", childNodes=[head_style, link])
        app = self.element("div", {"id": "app", "style": "height: 120px; overflow: auto"})
        card = self.element("x-card", {"class": "card"}, isShadowHost=True)
        inner = self.element("p", {"class": "inner"})
        inner["childNodes"] = [self.text("in the shadow")]
        inner["isShadow"] = True
        card["childNodes"] = [inner]
        self.host = card["id"]
        field = self.element("input", {"type": "text", "value": "start"})
        box = self.element("input", {"type": "checkbox"})
        frame = self.element("iframe", {"width": "200", "height": "100"})
        self.iframe = frame["id"]
        items = [self.element("p", childNodes=[self.text(f"row {i}")]) for i in range(3)]
        app["childNodes"] = [*items]
        body = self.element("body", childNodes=[app, card, field, box, frame])
        html = self.element("html", childNodes=[head, body])
        doctype = {"type": 1, "id": self.new_id(), "name": "html", "publicId": "", "systemId": ""}
        document = {"type": 0, "id": self.doc, "childNodes": [doctype, html]}
        self.emit(4, {"href": "http://client.test/page", "width": 800, "height": 600})
        self.emit(2, {"node": document, "initialOffset": {"top": 0, "left": 0}})
        self._index(document, None, False, self.doc)
        self.inputs = [field["id"], box["id"]]
        self.scrollables = [app["id"], self.doc]
        self._attach_frame()

    def _index(self, node: Event, parent: int | None, shadow: bool, doc: int) -> None:
        stack = [(node, parent, shadow)]
        while stack:
            item, up, in_shadow = stack.pop()
            nid = item["id"]
            self.doc_of[nid] = doc
            if up is not None:
                self.parent[nid] = (up, in_shadow)
                (self.shadow.setdefault(up, []) if in_shadow else self.kids[up]).append(nid)
            if item["type"] in (0, 2):
                self.kids.setdefault(nid, [])
            for child in reversed(item.get("childNodes", [])):
                stack.append((child, nid, bool(child.get("isShadow"))))

    def _attach_frame(self) -> None:
        doc = self.new_id()
        paragraph = self.element("p", {"class": "framed"}, rootId=doc)
        paragraph["childNodes"] = [self.text("inside the frame") | {"rootId": doc}]
        body = self.element("body", {}, rootId=doc, childNodes=[paragraph])
        html = self.element("html", {}, rootId=doc, childNodes=[body])
        document = {"type": 0, "id": doc, "childNodes": [html], "compatMode": "CSS1Compat"}
        self.kids[doc] = []
        self._index(document, None, False, doc)
        self.frame_doc = doc
        self.frame_body = body["id"]
        self.mutation(adds=[{"parentId": self.iframe, "nextId": None, "node": document}])
        self.events[-1]["data"]["isAttachIframe"] = True
        self.scrollables.append(doc)

    # -- picking nodes

    def elements(self) -> list[int]:
        return sorted(
            n
            for n in self.tags
            if n in self.parent and self.tags[n] not in ("html", "head", "style", "link", "iframe")
        )

    def containers(self) -> list[int]:
        return [n for n in self.elements() if self.tags[n] in ("div", "p", "span", "body", "ul")]

    def removable(self) -> list[int]:
        return [
            n
            for n in sorted(self.parent)
            if n not in (self.iframe, self.style, self.host)
            and self.tags.get(n) not in ("html", "head", "body")
            and n not in self.inputs
            and self.parent[n][0] != self.style
        ]

    def _rid(self, pid: int) -> dict[str, Any]:
        doc = self.doc_of[pid]
        return {"rootId": doc} if doc != self.doc else {}

    # -- operations

    def add(self, pid: int, pick: int, shadow: bool = False) -> None:
        """A paragraph with a text, placed among `pid`'s children by `pick`:
        the paragraph is listed after its text (queued until its parent) and,
        half the time, a second paragraph after the first, named as its next
        sibling before it arrives."""
        siblings = (self.shadow.setdefault(pid, []) if shadow else self.kids[pid])[:]
        index = pick % (len(siblings) + 1)
        next_id = siblings[index] if index < len(siblings) else None
        previous = siblings[index - 1] if index > 0 else None
        extra = self._rid(pid)
        para = self.element("p", {"data-n": str(pick)}, **extra)
        words = self.text(f"added {pick}") | extra
        adds: list[dict[str, Any]] = []
        second: Event | None = None
        if pick % 2:
            second = self.element("span", {"class": "second"}, **extra)
            adds.append({"parentId": pid, "previousId": None, "nextId": second["id"], "node": para})
            adds.append(
                {"parentId": pid, "previousId": previous, "nextId": next_id, "node": second}
            )
        else:
            adds.append({"parentId": pid, "previousId": previous, "nextId": next_id, "node": para})
        if shadow:
            for a in adds:
                a["node"]["isShadow"] = True
        adds.insert(0, {"parentId": para["id"], "previousId": None, "nextId": None, "node": words})
        self.mutation(adds=adds)
        order = [para["id"]] + ([second["id"]] if second else [])
        target = self.shadow[pid] if shadow else self.kids[pid]
        at = target.index(next_id) if next_id is not None else len(target)
        target[at:at] = order
        for nid in order:
            self.parent[nid] = (pid, shadow)
            self.doc_of[nid] = self.doc_of[pid]
        self.parent[words["id"]] = (para["id"], False)
        self.doc_of[words["id"]] = self.doc_of[pid]
        self.kids[para["id"]].append(words["id"])

    def remove(self, nid: int) -> None:
        pid, shadow = self.parent[nid]
        entry: dict[str, Any] = {"parentId": pid, "id": nid}
        if shadow:
            entry["isShadow"] = True
        self.mutation(removes=[entry])
        (self.shadow[pid] if shadow else self.kids[pid]).remove(nid)
        stack = [nid]
        while stack:
            current = stack.pop()
            self.parent.pop(current, None)
            self.tags.pop(current, None)
            self.texts.discard(current)
            stack.extend(self.kids.pop(current, []))
            stack.extend(self.shadow.pop(current, []))

    def move(self, nid: int, pid: int) -> None:
        """Remove and add again in one mutation (the same id, as recorders send a move)."""
        old_pid, shadow = self.parent[nid]
        tag = self.tags[nid]
        entry: dict[str, Any] = {"parentId": old_pid, "id": nid}
        if shadow:
            entry["isShadow"] = True
        node = {
            "type": 2,
            "id": nid,
            "tagName": tag,
            "attributes": {"moved": "1"},
            "childNodes": [],
        }
        node.update(self._rid(pid))
        self.mutation(removes=[entry], adds=[{"parentId": pid, "nextId": None, "node": node}])
        self.remove_quietly(nid)
        self.tags[nid] = tag
        self.kids[nid] = []
        self.kids[pid].append(nid)
        self.parent[nid] = (pid, False)
        self.doc_of[nid] = self.doc_of[pid]

    def remove_quietly(self, nid: int) -> None:
        pid, shadow = self.parent[nid]
        (self.shadow[pid] if shadow else self.kids[pid]).remove(nid)
        stack = [nid]
        while stack:
            current = stack.pop()
            self.parent.pop(current, None)
            self.tags.pop(current, None)
            self.texts.discard(current)
            stack.extend(self.kids.pop(current, []))
            stack.extend(self.shadow.pop(current, []))

    def set_text(self, nid: int, value: str) -> None:
        self.mutation(texts=[{"id": nid, "value": value}, {"id": nid, "value": value + "!"}])

    def set_attribute(self, nid: int, name: str, value: Any) -> None:
        self.mutation(attributes=[{"id": nid, "attributes": {name: value}}])


COLORS = ["red", "rgb(0, 128, 0)", "blue"]
OPERATIONS = (
    "add",
    "add_shadow",
    "add_frame",
    "remove",
    "move",
    "text",
    "attribute",
    "remove_attribute",
    "style_object",
    "style_string",
    "rule",
    "declaration",
    "adopt",
    "sheet_rule",
    "scroll",
    "input",
    "pointer",
    "focus",
    "selection",
    "resize",
    "css_text",
    "link_css_text",
    "unknown_node",
)


def run_program(program: list[tuple[str, int]]) -> list[Event]:
    page = PageWriter()
    for operation, number in program:
        apply_operation(page, operation, number)
    return page.events


def apply_operation(page: PageWriter, operation: str, n: int) -> None:
    elements = page.elements()
    pick = elements[n % len(elements)]
    if operation == "add":
        containers = page.containers()
        page.add(containers[n % len(containers)], n)
    elif operation == "add_shadow":
        page.add(page.host, n, shadow=True)
    elif operation == "add_frame":
        page.add(page.frame_body, n)
    elif operation == "remove":
        candidates = page.removable()
        if candidates:
            page.remove(candidates[n % len(candidates)])
    elif operation == "move":
        candidates = [c for c in page.removable() if c in page.tags and c not in page.texts]
        containers = [c for c in page.containers() if page.doc_of[c] == page.doc]
        if candidates:
            nid = candidates[n % len(candidates)]
            target = containers[n % len(containers)]
            if not _inside(page, target, nid):
                page.move(nid, target)
    elif operation == "text":
        texts = sorted(
            t for t in page.texts if t in page.parent and page.parent[t][0] != page.style
        )
        if texts:
            page.set_text(texts[n % len(texts)], f"text {n}")
    elif operation == "attribute":
        page.set_attribute(pick, "class", f"c{n % 5}")
    elif operation == "remove_attribute":
        page.set_attribute(pick, "class", None)
    elif operation == "style_object":
        properties: dict[str, Any] = {"color": COLORS[n % 3]}
        if n % 4 == 1:
            properties["margin-left"] = ["4px", "important"]
        if n % 4 == 2:
            properties = {"color": False}
        page.set_attribute(pick, "style", properties)
    elif operation == "style_string":
        page.set_attribute(pick, "style", f"border: {n % 3}px solid black")
    elif operation == "rule":
        if n % 3:
            page.incremental(
                8, id=page.style, adds=[{"rule": f".r{n} {{ color: blue; }}", "index": 0}]
            )
        else:
            page.incremental(8, id=page.style, removes=[{"index": 0}])
    elif operation == "declaration":
        page.incremental(
            13, id=page.style, index=[0], set={"property": "color", "value": COLORS[n % 3]}
        )
    elif operation == "adopt":
        style_id = page.next_style_id
        page.next_style_id += 1
        host = page.doc if n % 2 else page.host
        rules = [{"rule": f".inner {{ outline: {n % 4}px solid red; }}", "index": 0}]
        page.incremental(
            15,
            id=host,
            styleIds=[*page.style_ids, style_id],
            styles=[{"styleId": style_id, "rules": rules}],
        )
        page.style_ids.append(style_id)
    elif operation == "sheet_rule":
        if page.style_ids:
            style_id = page.style_ids[n % len(page.style_ids)]
            if n % 5 == 0:
                page.incremental(
                    8, styleId=style_id, replaceSync=f"p {{ font-size: {10 + n % 9}px; }}"
                )
            else:
                page.incremental(
                    8, styleId=style_id, adds=[{"rule": f"p {{ margin: {n % 7}px; }}"}]
                )
    elif operation == "scroll":
        target = page.scrollables[n % len(page.scrollables)]
        page.incremental(3, id=target, x=0, y=n % 50)
    elif operation == "input":
        field, box = page.inputs
        if n % 2:
            page.incremental(5, id=field, text=f"typed {n}", isChecked=False)
        else:
            page.incremental(5, id=box, text="on", isChecked=bool(n % 4))
    elif operation == "pointer":
        if n % 2:
            page.incremental(1, positions=[{"x": n % 300, "y": 40, "id": pick, "timeOffset": 0}])
        else:
            page.incremental(2, type=2, id=pick, x=n % 300, y=50)
    elif operation == "focus":
        page.incremental(2, type=5 if n % 2 else 6, id=page.inputs[0])
    elif operation == "selection":
        texts = sorted(t for t in page.texts if t in page.parent)
        if texts:
            node = texts[n % len(texts)]
            page.incremental(
                14, ranges=[{"start": node, "startOffset": 0, "end": node, "endOffset": 1}]
            )
    elif operation == "resize":
        page.incremental(4, width=700 + n % 100, height=500)
    elif operation == "css_text":
        page.set_attribute(page.style, "_cssText", f"p {{ letter-spacing: {n}px; }}")
        page.texts -= set(page.kids.get(page.style, []))
        for child in page.kids.get(page.style, []):
            page.parent.pop(child, None)
        page.kids[page.style] = []
    elif operation == "link_css_text":
        # A late stylesheet loaded: the recorder sends its rules as _cssText.
        if n % 3 == 0:
            page.set_attribute(page.link, "media", f"(min-width: {n % 7}px)")
        page.set_attribute(page.link, "_cssText", f".inner {{ padding: {n % 997}px; }}")
    elif operation == "unknown_node":
        page.mutation(
            texts=[{"id": 999_999, "value": "x"}],
            attributes=[{"id": 999_998, "attributes": {"a": "b"}}],
            removes=[{"parentId": 3, "id": 999_997}],
        )
    else:
        raise ValueError(operation)


def _inside(page: PageWriter, node: int, ancestor: int) -> bool:
    current: int | None = node
    while current is not None:
        if current == ancestor:
            return True
        up = page.parent.get(current)
        current = up[0] if up else None
    return False


def dashboard(rows: int = 100, seconds: int = 3600) -> list[Event]:
    """The 55 MB-style session: a table of `rows` rows of 5 cells added once
    after load, then every second each cell's text and each row's class
    changed; one FullSnapshot at load."""
    page = PageWriter()
    app = page.elements()[0]  # div#app
    table = page.element("tbody")
    adds: list[dict[str, Any]] = [{"parentId": app, "nextId": None, "node": table}]
    cells: list[int] = []
    row_ids: list[int] = []
    for r in range(rows):
        row = page.element("tr", {"class": "row"})
        row_ids.append(row["id"])
        adds.append({"parentId": table["id"], "nextId": None, "node": row})
        for c in range(5):
            cell = page.element("td")
            words = page.text(f"{r}:{c}")
            cells.append(words["id"])
            adds.append({"parentId": row["id"], "nextId": None, "node": cell})
            adds.append({"parentId": cell["id"], "nextId": None, "node": words})
    page.mutation(adds=adds)
    for second in range(seconds):
        page.ts += 1000 - STEP_MS
        page.mutation(
            texts=[{"id": t, "value": f"{second * 7 + i} units"} for i, t in enumerate(cells)],
            attributes=[
                {"id": r, "attributes": {"class": f"row tick{second % 2}"}} for r in row_ids
            ],
        )
        if second % 10 == 0:
            page.incremental(
                1, positions=[{"x": second % 400, "y": 100, "id": table["id"], "timeOffset": 0}]
            )
    return page.events
