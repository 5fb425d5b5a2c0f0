// Progressive loading, planned from the session's chunk list.
//
// Chunks as stored (ChunkLoader, the usual path): the chunks needed for the first
// frame first (from the nearest chunk holding a full snapshot at or before the
// wanted moment, up to that moment), then the rest of the session forward, then
// the events not yet cut into chunks (events API), then the earlier chunks,
// nearest first, in runs that each begin with a full snapshot. Chunk URLs are
// immutable: a second open is served by the browser's cache.
//
// Time windows of the events API (Loader, when the zstd decoder cannot load):
// smallest first, so the first frame needs only the first chunk. Windows are
// disjoint and cover all time: [-inf, t0], [t0+1, t1], ..., [tn+1, +inf] (the
// last one also picks up events not yet cut into chunks).
import type { eventWithTime } from "@rrweb/types";
import { ApiError, type Api, type ChunkItem, type EventsPage, type MissingChunk } from "./api";
import { CorruptChunk } from "./chunkformat";
import type { ChunkDecoder } from "./chunkdecoder";

export interface TimeWindow {
  from: number | null;
  to: number | null;
}

const FIRST_GROUP_BYTES = 256 * 1024;
const MAX_GROUP_BYTES = 8 * 1024 * 1024;

export function planWindows(items: ReadonlyArray<ChunkItem>): TimeWindow[] {
  const sorted = [...items].sort((a, b) => a.first_ts - b.first_ts || a.idx - b.idx);
  const windows: TimeWindow[] = [];
  let from: number | null = null;
  let groupBytes = 0;
  let budget = 0; // the first window holds exactly the first chunk
  let end = -Infinity;
  sorted.forEach((item, i) => {
    end = Math.max(end, item.last_ts);
    groupBytes += item.raw_bytes;
    const next = sorted[i + 1];
    if (next && groupBytes < budget) return;
    windows.push({ from, to: end });
    from = end + 1;
    groupBytes = 0;
    budget = budget === 0 ? FIRST_GROUP_BYTES : Math.min(MAX_GROUP_BYTES, budget * 2);
  });
  windows.push({ from, to: null });
  return windows;
}

export type OnWindow = (page: EventsPage, index: number, count: number) => void;

/** Fetches the windows in order, two requests in flight, handing each over as it arrives. */
export class Loader {
  private cancelled = false;

  constructor(
    private readonly api: Api,
    private readonly sessionId: string,
    private readonly windows: ReadonlyArray<TimeWindow>,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }

  async run(onWindow: OnWindow): Promise<void> {
    const fetchOne = (i: number): Promise<EventsPage> | null => {
      const w = this.windows[i];
      return w ? this.api.events(this.sessionId, w.from, w.to) : null;
    };
    let current = fetchOne(0);
    let next = fetchOne(1);
    for (let i = 0; current && !this.cancelled; i++) {
      // Observe the prefetch's rejection here; it is rethrown when awaited in turn.
      next?.catch(() => undefined);
      const page = await current;
      if (this.cancelled) return;
      onWindow(page, i, this.windows.length);
      current = next;
      next = fetchOne(i + 2);
    }
  }
}

export interface ChunkPlan {
  /** The session's start on the event clock (its first chunk's first event); null: no chunk stored. */
  startTs: number | null;
  /** For the first frame: the nearest chunk with a full snapshot at or before the target, up to the target's chunk. */
  first: ChunkItem[];
  /** The chunks after those, in time order. */
  forward: ChunkItem[];
  /** The chunks before them, nearest run first; each run begins with a full snapshot (or the session's start). */
  backfill: ChunkItem[][];
  /** Events after the last stored chunk come from the events API from this time on. */
  tailFrom: number | null;
}

/** `targetMs`: the wanted moment as an offset from the session's start (`?t=`), null for the start. */
export function planChunks(items: ReadonlyArray<ChunkItem>, targetMs: number | null): ChunkPlan {
  const sorted = [...items].sort((a, b) => a.first_ts - b.first_ts || a.idx - b.idx);
  const head = sorted[0];
  if (!head) return { startTs: null, first: [], forward: [], backfill: [], tailFrom: null };
  let target = 0;
  if (targetMs !== null) {
    const at = head.first_ts + targetMs;
    sorted.forEach((c, i) => {
      if (c.first_ts <= at) target = i;
    });
  }
  let from = target;
  while (from > 0 && !sorted[from]?.has_full_snapshot) from--;
  const backfill: ChunkItem[][] = [];
  let end = from;
  for (let i = from - 1; i >= 0; i--) {
    if (i === 0 || sorted[i]?.has_full_snapshot) {
      backfill.push(sorted.slice(i, end));
      end = i;
    }
  }
  return {
    startTs: head.first_ts,
    first: sorted.slice(from, target + 1),
    forward: sorted.slice(target + 1),
    backfill,
    tailFrom: sorted.reduce((m, c) => Math.max(m, c.last_ts), -Infinity) + 1,
  };
}

/** Events in time order: "forward" continue what was handed over before, "backfill" precede all of it. */
export interface LoadedPart {
  kind: "forward" | "backfill";
  events: eventWithTime[];
  missing: MissingChunk[];
  /** The last forward part (the tail): the session's end is known. */
  endsForward: boolean;
}

export type OnPart = (part: LoadedPart, done: number, count: number) => void;

// Chromium's connections per host over HTTP/1.1: a chunk request costs the server a row
// lookup and a blob read, so latency, not bandwidth, bounds the download.
const CHUNKS_IN_FLIGHT = 6;

function missingChunk(item: ChunkItem, reason: string): MissingChunk {
  const { idx, page, first_ts, last_ts, has_full_snapshot } = item;
  return { chunk: idx, page, first_ts, last_ts, has_full_snapshot, reason };
}

/** Downloads and decodes the planned chunks, a few ahead, handing them over in plan order. */
export class ChunkLoader {
  private cancelled = false;
  private readonly order: ChunkItem[];
  private readonly started: Array<Promise<EventsPage>> = [];

  constructor(
    private readonly api: Api,
    private readonly sessionId: string,
    private readonly decoder: ChunkDecoder,
    private readonly plan: ChunkPlan,
  ) {
    this.order = [...plan.first, ...plan.forward, ...plan.backfill.flat()];
  }

  cancel(): void {
    this.cancelled = true;
  }

  async run(onPart: OnPart): Promise<void> {
    const { first, forward, backfill, tailFrom } = this.plan;
    const count = first.length + forward.length + 1 + backfill.length;
    let done = 0;
    let next = 0;
    const take = async (n: number): Promise<EventsPage> => {
      const pages: EventsPage[] = [];
      for (let i = 0; i < n; i++) pages.push(await this.chunkAt(next++));
      return { events: pages.flatMap((p) => p.events), missing: pages.flatMap((p) => p.missing) };
    };
    const hand = (kind: LoadedPart["kind"], page: EventsPage, endsForward = false): boolean => {
      if (this.cancelled) return false;
      onPart({ kind, ...page, endsForward }, ++done, count);
      return true;
    };
    // One at a time: without keyframes the way to the target can be long, and its
    // first chunk already draws a frame.
    if (!hand("forward", await take(1))) return;
    // The tail is small and its request cheap: fetched beside the forward chunks.
    const tail = this.api.events(this.sessionId, tailFrom, null);
    tail.catch(() => undefined); // observed here, rethrown when awaited in turn
    for (let i = 1; i < first.length + forward.length; i++) if (!hand("forward", await take(1))) return;
    if (!hand("forward", await tail, true)) return;
    for (const run of backfill) if (!hand("backfill", await take(run.length))) return;
  }

  /** Chunk `i` of the plan's order, starting the next few downloads as well. */
  private chunkAt(i: number): Promise<EventsPage> {
    for (let j = i; j < Math.min(this.order.length, i + CHUNKS_IN_FLIGHT); j++) {
      const item = this.order[j];
      if (!this.started[j] && item) {
        const loading = this.load(item);
        loading.catch(() => undefined); // observed here, rethrown when awaited in turn
        this.started[j] = loading;
      }
    }
    const found = this.started[i];
    if (!found) return Promise.reject(new Error(`no chunk ${i} in the plan`));
    return found;
  }

  private async load(item: ChunkItem): Promise<EventsPage> {
    let blob: Uint8Array;
    try {
      blob = await this.api.chunk(this.sessionId, item.idx);
    } catch (err) {
      // As the events API reports it: a chunk without a blob is missing; other failures stop the replay.
      if (err instanceof ApiError && err.status === 404) return { events: [], missing: [missingChunk(item, "blob is missing from storage")] };
      throw err;
    }
    try {
      return { events: await this.decoder.decode(blob), missing: [] };
    } catch (err) {
      if (err instanceof CorruptChunk) return { events: [], missing: [missingChunk(item, `corrupt: ${err.message}`)] };
      throw err;
    }
  }
}
