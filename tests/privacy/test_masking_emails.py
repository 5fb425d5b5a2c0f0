"""E-mail addresses in page text (replay_server/privacy/masking.py): text that is
not masked keeps its words but not its addresses (a `<title>` such as "Account
of jane@example.org"), in snapshots, added nodes and text changes."""

from __future__ import annotations

from typing import Any

from replay_server.privacy.masking import MaskPolicy, PageNodes, mask_events
from tests.privacy.test_masking import el, mutation, nodes_by_id, snapshot, text


def page_with_title(title: str) -> dict[str, Any]:
    event = snapshot(
        el(30, "p", {}, text(31, "Signed in as jane.doe@example.org, welcome")),
        el(32, "style", {}, text(33, "a[href^='mailto:x@example.org'] {}", isStyle=True)),
    )
    head = el(40, "head", {}, el(41, "title", {}, text(42, title)))
    event["data"]["node"]["childNodes"][0]["childNodes"].insert(0, head)
    return event


def test_email_addresses_in_page_text_are_redacted() -> None:
    event = page_with_title("Account of jane.doe@example.org")
    # counted: the caller stores the rewritten events, not the frame as sent
    assert mask_events([event], PageNodes(), MaskPolicy()) == 2
    nodes = nodes_by_id(event)
    assert nodes[42]["textContent"] == "Account of REDACTED"
    assert nodes[31]["textContent"] == "Signed in as REDACTED, welcome"
    assert "x@example.org" in nodes[33]["textContent"]  # CSS is not page text


def test_added_and_changed_text_is_redacted_too() -> None:
    nodes = PageNodes()
    events = [
        page_with_title("Shop"),
        mutation(texts=[{"id": 42, "value": "Orders of jane%40example.org"}]),
        mutation(adds=[{"parentId": 30, "nextId": None, "node": text(50, "to: jo@example.org")}]),
    ]
    mask_events(events, nodes, MaskPolicy())
    assert events[1]["data"]["texts"][0]["value"] == "Orders of REDACTED"
    assert events[2]["data"]["adds"][0]["node"]["textContent"] == "to: REDACTED"


def test_text_without_an_address_is_unchanged_and_masked_text_stays_masked() -> None:
    plain = page_with_title("Shop: 2 items @ 10 EUR")
    assert mask_events([plain], PageNodes(), MaskPolicy()) == 1  # the paragraph only
    assert nodes_by_id(plain)[42]["textContent"] == "Shop: 2 items @ 10 EUR"
    masked = page_with_title("Account of jane.doe@example.org")
    mask_events([masked], PageNodes(), MaskPolicy(mask_text=True))
    assert nodes_by_id(masked)[42]["textContent"] == "******* ** " + "*" * 20
