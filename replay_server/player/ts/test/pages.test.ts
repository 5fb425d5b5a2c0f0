import assert from "node:assert/strict";
import { test } from "node:test";
import type { PageView } from "../api";
import { pageAt, pageMarks } from "../pages";
import { meta, mouseMove, snapshot } from "./events";

function page(n: number, started: number): PageView {
  return { page: n, url: `https://shop.example/${n}`, title: "", started_at_ms: started, ended_at_ms: null };
}

test("a page's start snaps to the nearest full snapshot within 5 s, else stays where it was recorded", () => {
  const events = [meta(1000), snapshot(1010), mouseMove(2000), snapshot(30_000), mouseMove(90_000)];
  const marks = pageMarks([page(1, 28_000), page(0, 1000), page(2, 60_000)], events, 89_000);
  assert.deepEqual(marks.map((m) => [m.page.page, m.offsetMs]), [
    [0, 10],
    [1, 29_000],
    [2, 59_000],
  ]);
});

test("offsets are clamped to the replay; no events, no marks", () => {
  assert.deepEqual(pageMarks([page(0, 0)], [], 100), []);
  const marks = pageMarks([page(0, 0), page(1, 500_000)], [snapshot(1000)], 10_000);
  assert.deepEqual(marks.map((m) => m.offsetMs), [0, 10_000]);
});

test("without page metadata, each Meta event is a page view", () => {
  const marks = pageMarks([], [meta(0, "https://a.example/"), snapshot(1), meta(5000, "https://b.example/"), snapshot(5001)], 6000);
  assert.deepEqual(marks.map((m) => [m.page.url, m.offsetMs]), [
    ["https://a.example/", 1],
    ["https://b.example/", 5001],
  ]);
});

test("pageAt is the last page started at or before the time", () => {
  const marks = pageMarks([page(0, 0), page(1, 10_000)], [snapshot(0), snapshot(10_000)], 20_000);
  assert.equal(pageAt(marks, 0), 0);
  assert.equal(pageAt(marks, 9_999), 0);
  assert.equal(pageAt(marks, 10_000), 1);
  assert.equal(pageAt([], 5), 0);
});
