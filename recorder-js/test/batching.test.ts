// Cutting the recording's buffer into batches (recorder.ts) and picking batches for a request (http.ts).
import { EventType } from "@rrweb/types";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RecEvent } from "../src/config";
import { oldestThatFit, requestBody } from "../src/http";
import { makeBatch, utf8Length } from "../src/queue";
import { splitEvents } from "../src/recorder";

function events(n: number, payloadChars = 1): RecEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type: EventType.Custom, data: { tag: "t", payload: "y".repeat(payloadChars) }, timestamp: i }));
}

test("a small buffer is one batch with its JSON", () => {
  const evs = events(3);
  const out = splitEvents(evs);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.json, JSON.stringify(evs));
});

test("at most 5,000 events per batch, in order", () => {
  const evs = events(12001);
  const out = splitEvents(evs);
  assert.deepEqual(out.map((c) => c.events.length), [5000, 5000, 2001]);
  assert.deepEqual(out.flatMap((c) => c.events), evs);
});

test("at most ~1 MB of JSON per batch; each batch's JSON is its events'", () => {
  const evs = events(30, 100 * 1024);
  const out = splitEvents(evs);
  assert.ok(out.length >= 3);
  for (const c of out) {
    assert.ok(utf8Length(c.json) <= 1024 * 1024, String(utf8Length(c.json)));
    assert.deepEqual(JSON.parse(c.json), c.events);
  }
  assert.deepEqual(out.flatMap((c) => c.events), evs);
});

test("an event bigger than the bound still gets a batch of its own", () => {
  const evs = [...events(1, 2 * 1024 * 1024), ...events(1)];
  assert.deepEqual(splitEvents(evs).map((c) => c.events.length), [1, 1]);
});

test("oldestThatFit takes a prefix by size and count, never skipping a batch", () => {
  const batches = [makeBatch(0, 0, events(1, 100)), makeBatch(1, 0, events(1, 5000)), makeBatch(2, 0, events(1, 100))];
  assert.deepEqual(oldestThatFit(batches, 1000).map((b) => b.seq), [0]);
  assert.deepEqual(oldestThatFit(batches, 100_000).map((b) => b.seq), [0, 1, 2]);
  assert.deepEqual(oldestThatFit(batches, 100_000, 2).map((b) => b.seq), [0, 1]);
  assert.deepEqual(oldestThatFit(batches, 10), []);
});

test("requestBody is the JSON the HTTP endpoint reads: the hello without `t`, then the batches", () => {
  const b = makeBatch(7, 2, events(2));
  const body = JSON.parse(
    requestBody(
      { t: "hello", v: 1, site: "pk", sid: "s", vid: "v", page: 2, url: "u", referrer: "", title: "", viewport: [1, 2], screen: [3, 4], lang: "", tz: "", clock: 5 },
      [b],
    ),
  ) as { hello: Record<string, unknown>; batches: unknown[] };
  assert.equal(body.hello.t, undefined);
  assert.equal(body.hello.site, "pk");
  assert.deepEqual(body.batches, [{ seq: 7, page: 2, events: b.events }]);
});
