"""Selectors of clicked elements from the recorded node tree: stable paths
that querySelector finds in the drawn page, built from the snapshot and kept
up to date by mutations; hostile trees cost bounded memory and time."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from replay_server.enrich.nodetree import MAX_NODES, MAX_SELECTOR_LENGTH, NodeTree


def el(node_id: int, tag: str, *children: dict[str, Any], **attrs: str) -> dict[str, Any]:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attrs,
        "childNodes": list(children),
    }


def text(node_id: int) -> dict[str, Any]:
    return {"type": 3, "id": node_id, "textContent": "hi"}


def document(*body: dict[str, Any]) -> dict[str, Any]:
    return {"type": 0, "id": 1, "childNodes": [el(2, "html", el(3, "head"), el(4, "body", *body))]}


def test_paths_use_ids_classes_and_nth_child_only_where_needed() -> None:
    tree = NodeTree.from_snapshot(
        document(
            el(10, "nav", el(11, "a", id="home"), text(12), el(13, "a", **{"class": "link x"}),
               el(14, "a", **{"class": "link"})),
            el(20, "main", el(21, "section", el(22, "button", **{"class": "buy primary big"}))),
        )
    )  # fmt: skip
    assert tree.selector(11) == "a#home"
    # a.link.x is unique among its siblings' steps, a.link is not (a.link.x also matches it)
    assert tree.selector(13) == "html > body > nav > a.link.x"
    assert tree.selector(14) == "html > body > nav > a.link:nth-child(3)"
    assert tree.selector(22) == "html > body > main > section > button.buy.primary"
    assert tree.selector(12) == ""  # a text node is no element
    assert tree.selector(999) == ""  # unknown node


def test_generated_or_unescapable_names_are_left_out() -> None:
    tree = NodeTree.from_snapshot(
        document(
            el(10, "div", el(11, "button", id=":r1:"), el(12, "span", id="row-12345")),
            el(20, "p", **{"class": 'css-1x2y3z9 ok 2bad a"b'}),
        )
    )
    assert tree.selector(11) == "html > body > div > button"
    assert tree.selector(12) == "html > body > div > span"
    assert tree.selector(20) == "html > body > p.ok"


def test_mutations_add_move_and_remove_nodes() -> None:
    tree = NodeTree.from_snapshot(document(el(10, "ul", el(11, "li"), el(12, "li"))))
    assert tree.selector(12) == "html > body > ul > li:nth-child(2)"
    # a new first item (inserted before 11) shifts the others
    tree.apply_mutation({"adds": [{"parentId": 10, "nextId": 11, "node": el(13, "li")}]})
    assert tree.selector(13) == "html > body > ul > li:nth-child(1)"
    assert tree.selector(12) == "html > body > ul > li:nth-child(3)"
    tree.apply_mutation({"removes": [{"parentId": 10, "id": 13}, {"parentId": 10, "id": 11}]})
    assert tree.selector(12) == "html > body > ul > li"
    assert tree.selector(11) == ""
    # an add under an unknown parent, or garbage, changes nothing
    tree.apply_mutation({"adds": [{"parentId": 777, "nextId": None, "node": el(30, "b")}, 5, None]})
    tree.apply_mutation({"removes": "x", "adds": {"a": 1}})
    assert tree.selector(30) == "" and tree.selector(12) == "html > body > ul > li"


def test_iframe_documents_and_shadow_content_are_not_named() -> None:
    inner = {"type": 0, "id": 50, "childNodes": [el(51, "html", el(52, "body", el(53, "button")))]}
    tree = NodeTree.from_snapshot(document(el(10, "iframe")))
    tree.apply_mutation({"adds": [{"parentId": 10, "nextId": None, "node": inner}]})
    assert tree.selector(53) == ""
    assert tree.selector(10) == "html > body > iframe"


def test_hostile_trees_stay_bounded() -> None:
    deep: dict[str, Any] = el(100_000, "div")
    for depth in range(5000):  # deeper than the interpreter's recursion limit
        deep = el(100_000 + depth + 1, "div", deep)
    tree = NodeTree.from_snapshot(document(deep))
    assert tree.selector(100_000) == ""  # too long a path: unknown, not a crash
    wide = NodeTree.from_snapshot(document(*(el(10 + i, "i") for i in range(MAX_NODES + 10))))
    assert len(wide.parent) == MAX_NODES
    assert len(wide.selector(20)) <= MAX_SELECTOR_LENGTH
    bogus = NodeTree.from_snapshot({"type": 0, "id": "x", "childNodes": "no"})
    assert bogus.selector(1) == ""
    huge = NodeTree.from_snapshot(document(el(2**40, "div", el(12, "b")), el(-3, "p")))
    assert huge.selector(2**40) == "" and huge.selector(12) == "" and huge.selector(-3) == ""
    assert NodeTree.unpack(huge.pack()) == huge
    odd = NodeTree.from_snapshot(document(el(10, "<script>"), el(11, "my-widget")))
    assert odd.selector(10) == "html > body > *"
    assert odd.selector(11) == "html > body > my-widget"


ids = st.integers(min_value=-2, max_value=40)
names = st.sampled_from(["div", "a", "li", "x y", "", "my-el", "<b>"])
nodes = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from([0, 2, 3, 5, "2"]), "id": ids, "tagName": names,
         "attributes": st.dictionaries(st.sampled_from(["id", "class"]), names, max_size=2)}
    ),
    lambda children: st.fixed_dictionaries(
        {"type": st.just(2), "id": ids, "tagName": names,
         "childNodes": st.lists(children, max_size=4)}
    ),
    max_leaves=12,
)  # fmt: skip
mutations = st.fixed_dictionaries(
    {
        "adds": st.lists(
            st.fixed_dictionaries({"parentId": ids, "nextId": st.one_of(st.none(), ids),
                                   "node": nodes}),
            max_size=4,
        ),
        "removes": st.lists(st.fixed_dictionaries({"parentId": ids, "id": ids}), max_size=3),
    }
)  # fmt: skip


@given(snapshot=nodes, changes=st.lists(mutations, max_size=6), clicked=ids)
@settings(max_examples=300, deadline=None)
def test_any_tree_and_mutations_give_a_selector_or_nothing(
    snapshot: dict[str, Any], changes: list[dict[str, Any]], clicked: int
) -> None:
    """Random (also inconsistent: cycles of ids, re-added nodes) trees never
    raise, keep parent and children consistent, and name only elements."""
    tree = NodeTree.from_snapshot(snapshot)
    for change in changes:
        tree.apply_mutation(change)
    for parent, children in tree.children.items():
        assert parent in tree.parent
        for child in children:
            assert tree.parent.get(child) == parent
    assert NodeTree.unpack(tree.pack()) == tree  # the trip to the chunk worker and back
    selector = tree.selector(clicked)
    assert isinstance(selector, str) and len(selector) <= MAX_SELECTOR_LENGTH
    if selector:
        assert clicked in tree.elements


# Small pages of look-alike siblings and mutations that hit them (ids 5..40):
# positions and ambiguity change with every add and remove.
page_ids = st.integers(min_value=4, max_value=40)
look_alikes = st.recursive(
    st.builds(
        lambda i, tag, cls: el(i, tag, **({"class": cls} if cls else {})),
        page_ids, st.sampled_from(["li", "div"]), st.sampled_from(["", "a", "a b"]),
    ),
    lambda children: st.builds(
        lambda i, tag, kids: el(i, tag, *kids),
        page_ids, st.sampled_from(["ul", "div"]), st.lists(children, max_size=4),
    ),
    max_leaves=10,
)  # fmt: skip
page_changes = st.fixed_dictionaries(
    {
        "adds": st.lists(
            st.fixed_dictionaries({"parentId": page_ids, "nextId": st.one_of(st.none(), page_ids),
                                   "node": look_alikes}),
            max_size=3,
        ),
        "removes": st.lists(st.fixed_dictionaries({"id": page_ids}), max_size=2),
    }
)  # fmt: skip


@given(
    body=st.lists(look_alikes, max_size=4),
    changes=st.lists(page_changes, min_size=1, max_size=6),
)
@settings(max_examples=300, deadline=None)
def test_selectors_remembered_between_mutations_are_those_of_a_fresh_tree(
    body: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> None:
    """The tree remembers the selectors it named until the children they were
    counted among change: after any mutations, every selector it gives equals
    what a tree that never named anything (its trip through pack) gives."""
    tree = NodeTree.from_snapshot(document(*body))
    for change in changes:
        named = list(tree.elements)
        for node in named:
            tree.selector(node)
        tree.apply_mutation(change)
        fresh = NodeTree.unpack(tree.pack())
        assert [tree.selector(n) for n in named] == [fresh.selector(n) for n in named]
