// Recorded referrer policies are neutralised before rrweb rebuilds the page (referrer.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventType, IncrementalSource, NodeType, type eventWithTime } from "@rrweb/types";
import { NO_REFERRER, ReferrerScrubber } from "../referrer";

function el(id: number, tagName: string, attributes: Record<string, unknown>, ...childNodes: unknown[]): unknown {
  return { type: NodeType.Element, id, tagName, attributes, childNodes };
}

function full(...body: unknown[]): eventWithTime {
  const node = { type: NodeType.Document, id: 1, childNodes: [el(2, "html", {}, el(3, "head", {}, el(4, "meta", { name: "Referrer", content: "unsafe-url" })), el(5, "body", {}, ...body))] };
  return { type: EventType.FullSnapshot, timestamp: 1, data: { node, initialOffset: { top: 0, left: 0 } } } as unknown as eventWithTime;
}

function mutation(data: Record<string, unknown>): eventWithTime {
  return { type: EventType.IncrementalSnapshot, timestamp: 2, data: { source: IncrementalSource.Mutation, texts: [], removes: [], adds: [], attributes: [], ...data } } as unknown as eventWithTime;
}

test("snapshot: meta referrer, referrerpolicy attributes and srcdoc are neutralised", () => {
  const img = { src: "http://tracker.example/p.png", referrerpolicy: "unsafe-url" };
  const frame = { srcdoc: '<meta name="referrer" content="unsafe-url"><img src="http://t.example/x">' };
  const event = full(el(6, "img", img), el(7, "IFRAME", frame), el(8, "a", { href: "/x", ReferrerPolicy: "origin" }));
  assert.equal(new ReferrerScrubber().scrub([event]), 4);
  const text = JSON.stringify(event);
  assert.ok(!text.includes("unsafe-url") && !text.includes("srcdoc") && !text.includes('"origin"'), text);
  assert.equal(img.referrerpolicy, NO_REFERRER);
});

test("mutations: added nodes and attribute changes, a later content change of a known meta", () => {
  const scrubber = new ReferrerScrubber();
  scrubber.scrub([full()]);
  const events = [
    mutation({ adds: [{ parentId: 5, nextId: null, node: el(9, "video", { src: "http://t.example/v.mp4", referrerpolicy: "unsafe-url" }) }] }),
    mutation({ adds: [{ parentId: 3, nextId: null, node: el(10, "meta", { "http-equiv": "Referrer-Policy", content: "unsafe-url" }) }] }),
    mutation({ attributes: [{ id: 4, attributes: { content: "unsafe-url" } }, { id: 6, attributes: { referrerpolicy: "unsafe-url", srcdoc: "<b>x</b>" } }] }),
    mutation({ attributes: [{ id: 6, attributes: { referrerpolicy: null } }] }),
  ];
  assert.equal(scrubber.scrub(events), 5);
  assert.ok(!JSON.stringify(events).includes("unsafe-url"));
  assert.ok(!JSON.stringify(events).includes("srcdoc"));
  assert.match(JSON.stringify(events[3]), /"referrerpolicy":null/);
});
