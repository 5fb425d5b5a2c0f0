import assert from "node:assert/strict";
import { test } from "node:test";
import { EventType, IncrementalSource, type eventWithTime } from "@rrweb/types";
import { ActivityCounter, INACTIVE_MS, isInteraction } from "../activity";
import { click, meta, mouseMove, mutation } from "./events";

function incremental(source: IncrementalSource, ts = 0): eventWithTime {
  return { type: EventType.IncrementalSnapshot, timestamp: ts, data: { source } } as eventWithTime;
}

test("interactions are the incremental sources MouseMove..Input, not mutations or style changes", () => {
  for (const s of [IncrementalSource.MouseMove, IncrementalSource.MouseInteraction, IncrementalSource.Scroll, IncrementalSource.ViewportResize, IncrementalSource.Input]) {
    assert.equal(isInteraction(incremental(s)), true, IncrementalSource[s]);
  }
  for (const s of [IncrementalSource.Mutation, IncrementalSource.TouchMove, IncrementalSource.StyleSheetRule, IncrementalSource.Selection]) {
    assert.equal(isInteraction(incremental(s)), false, IncrementalSource[s]);
  }
  assert.equal(isInteraction(meta(0)), false);
});

test("events are counted per second since the start; earlier ones are left out", () => {
  const c = new ActivityCounter();
  c.add([meta(500), mouseMove(1000), mouseMove(1999), mutation(2000), mutation(4500)], 1000);
  assert.deepEqual(c.perSecond, [2, 1, 0, 1]);
});

test("a gap is a stretch over 10 s between interactions, across calls; mutations do not break it", () => {
  const c = new ActivityCounter();
  c.add([click(0, 10), mutation(5000)], 0);
  c.add([mouseMove(INACTIVE_MS), mutation(15_000), mouseMove(INACTIVE_MS + 25_000)], 0);
  c.add([mouseMove(INACTIVE_MS + 30_000)], 0);
  assert.deepEqual(c.gaps, [{ fromMs: INACTIVE_MS, toMs: INACTIVE_MS + 25_000 }]);
});

test("runs added earlier than those before (a replay opened in the middle) give the gaps of the whole", () => {
  const runs = [
    [mouseMove(0), click(4000, 10)],
    [mouseMove(20_000), mutation(25_000), mouseMove(26_000)],
    [mouseMove(30_000), mouseMove(50_000)],
  ];
  const inOrder = new ActivityCounter();
  for (const run of runs) inOrder.add(run, 0);
  const backfilled = new ActivityCounter();
  for (const run of [runs[2], runs[1], runs[0]]) backfilled.add(run ?? [], 0);
  const expected = [
    { fromMs: 4000, toMs: 20_000 },
    { fromMs: 30_000, toMs: 50_000 },
  ];
  assert.deepEqual(inOrder.gaps, expected);
  assert.deepEqual(backfilled.gaps, expected);
  assert.deepEqual(backfilled.perSecond, inOrder.perSecond);
});
