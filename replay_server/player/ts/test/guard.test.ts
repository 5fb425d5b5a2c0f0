// What cannot be drawn is skipped with a notice: pages without a full snapshot, lost chunks.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MissingChunk } from "../api";
import { PageGuard } from "../guard";
import { meta, mouseMove, snapshot } from "./events";

const ts = (events: { timestamp: number }[]): number[] => events.map((e) => e.timestamp);

function lost(first_ts: number, has_full_snapshot: boolean): MissingChunk {
  return { chunk: 3, page: 1, first_ts, last_ts: first_ts + 100, has_full_snapshot, reason: "blob_missing" };
}

test("a page with its full snapshot plays; its Meta is held until the snapshot comes", () => {
  const guard = new PageGuard();
  const first = guard.filter([meta(0)]);
  assert.deepEqual(first.events, []);
  const rest = guard.filter([snapshot(1), mouseMove(2)]);
  assert.deepEqual(ts(rest.events), [0, 1, 2]);
  assert.deepEqual(guard.notices, []);
  assert.equal(guard.droppedCount, 0);
});

test("events before any full snapshot are dropped with one notice", () => {
  const guard = new PageGuard();
  const out = guard.filter([mouseMove(1), mouseMove(2)]);
  assert.deepEqual(out.events, []);
  assert.deepEqual(out.notices.map((n) => n.message), ["Events without a full snapshot to draw them on are skipped."]);
  assert.equal(guard.droppedCount, 2);
});

test("a page view whose snapshot never comes is skipped: at the next page, or at the end", () => {
  const guard = new PageGuard();
  const out = guard.filter([meta(0, "https://a.example/"), mouseMove(1), meta(10, "https://b.example/"), snapshot(11), mouseMove(12)]);
  assert.deepEqual(ts(out.events), [10, 11, 12]);
  assert.deepEqual(out.notices.map((n) => n.message), ["The page view of https://a.example/ has no full snapshot and is skipped."]);
  guard.filter([meta(20, "")]);
  assert.deepEqual(guard.finish().map((n) => n.message), ["A page view has no full snapshot and is skipped."]);
  assert.deepEqual(guard.finish(), []);
});

test("a missing chunk gets a notice; if it held a page's start, that page is skipped until the next one", () => {
  const guard = new PageGuard();
  guard.filter([meta(0), snapshot(1), mouseMove(2)]);
  const notices = guard.missing([lost(100, true)]);
  assert.deepEqual(notices.map((n) => n.message), ["Part of page 2 is missing (chunk 3: blob_missing); its events are skipped."]);
  const out = guard.filter([mouseMove(50), mouseMove(150), mouseMove(160), meta(200), snapshot(201), mouseMove(202)]);
  assert.deepEqual(ts(out.events), [50, 200, 201, 202]);
  assert.deepEqual(out.notices.map((n) => n.message), ["A page view lost its start (full snapshot); it is skipped until the next page."]);
});

test("a missing chunk without a full snapshot only gets its notice", () => {
  const guard = new PageGuard();
  guard.filter([meta(0), snapshot(1)]);
  guard.missing([lost(100, false)]);
  assert.deepEqual(ts(guard.filter([mouseMove(150)]).events), [150]);
});
