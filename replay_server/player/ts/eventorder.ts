// Merging a run of earlier events into the list rrweb plays from, keeping time order.
import type { eventWithTime } from "@rrweb/types";

/** Insert `events` (in time order) into `into` (in time order), in place. */
export function insertSorted(into: eventWithTime[], events: ReadonlyArray<eventWithTime>): void {
  const first = events[0];
  const last = events[events.length - 1];
  if (!first || !last) return;
  let lo = 0;
  let hi = into.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((into[mid]?.timestamp ?? 0) <= first.timestamp) lo = mid + 1;
    else hi = mid;
  }
  const after = into[lo];
  if (after && after.timestamp < last.timestamp) {
    // They interleave (rare: page views of one session overlapping): merge.
    const merged = [...into, ...events].sort((a, b) => a.timestamp - b.timestamp);
    into.length = 0;
    for (const e of merged) into.push(e);
    return;
  }
  const PIECE = 10_000; // spread arguments stay well below engines' limits
  for (let i = 0; i < events.length; i += PIECE) into.splice(lo + i, 0, ...events.slice(i, i + PIECE));
}
