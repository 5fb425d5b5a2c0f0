// Progressive loading: the session is fetched in time windows planned from its
// chunk list, smallest first, so the first frame needs only the first chunk.
// Windows are disjoint and cover all time: [-inf, t0], [t0+1, t1], ..., [tn+1, +inf]
// (the last one also picks up events not yet cut into chunks).
import type { Api, ChunkItem, EventsPage } from "./api";

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
