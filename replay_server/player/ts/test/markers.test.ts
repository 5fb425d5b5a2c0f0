// Moments worth jumping to (markers.ts) and the names of the elements they are about (nodes.ts).
import { EventType, NodeType } from "@rrweb/types";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MarkerIndex, type Marker } from "../markers";
import { NodeNames } from "../nodes";
import { click, error, input, meta, mouseMove, mutation, snapshot } from "./events";

const kinds = (ms: Marker[]): string[] => ms.map((m) => `${m.kind}@${m.ts}`);

describe("NodeNames", () => {
  test("an element is named by its text, else by a selector (id, else name and two classes)", () => {
    const names = new NodeNames();
    names.observe(snapshot(0));
    assert.equal(names.label(10), "“Add to cart”");
    assert.equal(names.label(12), "input#email");
    assert.equal(names.label(13), "div.box.big");
    assert.equal(names.selector(10), "button#buy");
    assert.equal(names.tag(12), "input");
    assert.equal(names.label(99), "an element");
    assert.equal(names.selector(99), "a field");
  });

  test("mutations add nodes; a new full snapshot forgets the old page", () => {
    const names = new NodeNames();
    names.observe(snapshot(0));
    names.observe(mutation(1, 3, 20));
    assert.equal(names.label(20), "“Read more”");
    assert.equal(names.label(3), "“Add to cart Read more”", "text reaches the ancestors");
    names.observe({
      type: EventType.FullSnapshot,
      timestamp: 2,
      data: { node: { type: NodeType.Document, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } },
    });
    assert.equal(names.label(20), "an element");
  });
});

describe("MarkerIndex", () => {
  test("page views, clicks and errors", () => {
    const index = new MarkerIndex();
    const out = index.add([meta(0, "https://shop.example/cart"), snapshot(1), click(100, 10), mutation(200), error(300, "boom")]);
    assert.deepEqual(
      out.map((m) => [m.kind, m.ts, m.label]),
      [
        ["page", 0, "Page view: https://shop.example/cart"],
        ["click", 100, "Click on “Add to cart”"],
        ["error", 300, "Error: boom"],
      ],
    );
  });

  test("a click with no mutation, navigation or input within 1 s is dead; decided when later events (or finish) show it", () => {
    const index = new MarkerIndex();
    assert.deepEqual(kinds(index.add([snapshot(0), click(100, 13)])), ["click@100"]);
    assert.deepEqual(kinds(index.add([mouseMove(1100)])), [], "1 s has not passed yet");
    assert.deepEqual(kinds(index.add([mouseMove(1101)])), ["dead@100"]);
    index.add([click(2000, 13)]);
    assert.deepEqual(kinds(index.finish()), ["dead@2000"]);
  });

  test("a click answered by a mutation, or on a form field, is not dead", () => {
    const index = new MarkerIndex();
    index.add([snapshot(0), click(100, 13), mutation(900), click(2000, 12), mouseMove(5000)]);
    assert.deepEqual(index.finish(), []);
  });

  test("three clicks within 1 s and 30 px are one rage click (one marker per burst)", () => {
    const index = new MarkerIndex();
    const out = index.add([snapshot(0), click(100, 13, 10, 10), click(300, 13, 20, 20), click(500, 13, 15, 5), click(700, 13, 10, 10)]);
    const rage = out.filter((m) => m.kind === "rage");
    assert.equal(rage.length, 1);
    assert.equal(rage[0]?.ts, 100);
    assert.equal(rage[0]?.label, "Rage click on div.box.big (3 clicks)");
  });

  test("clicks far apart or slow are not rage clicks", () => {
    const index = new MarkerIndex();
    const out = index.add([snapshot(0), click(100, 13, 0, 0), click(200, 13, 100, 100), click(300, 13, 200, 200), click(2000, 13), click(3500, 13)]);
    assert.equal(out.filter((m) => m.kind === "rage").length, 0);
  });

  test("typing names the field, never the value; keystrokes within 3 s in one field are one marker", () => {
    const index = new MarkerIndex();
    const out = index.add([snapshot(0), input(100, 12), input(2000, 12), input(4000, 12), input(9000, 12)]);
    assert.deepEqual(out.map((m) => [m.ts, m.label]), [
      [100, "Typed in input#email"],
      [9000, "Typed in input#email"],
    ]);
    assert.ok(out.every((m) => !m.label.includes("secret")));
  });
});
