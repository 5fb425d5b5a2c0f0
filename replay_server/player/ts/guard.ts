// Keeps what rrweb cannot draw out of the replay: a page view whose full
// snapshot is missing (lost chunk, or never recorded) is skipped with a notice
// instead of replaying its mutations onto another page or hanging on a blank
// frame. Events arrive in time order, window by window.
import { EventType, type eventWithTime } from "@rrweb/types";
import type { MissingChunk } from "./api";

export interface Notice {
  ts: number;
  message: string;
}

export class PageGuard {
  /** The current page view can be drawn (its full snapshot was seen). */
  private playable = false;
  private heldMeta: eventWithTime | null = null;
  private segmentStart = -Infinity;
  private brokenNoted = false;
  private dropped = 0;
  /** Start times of lost chunks that held a page's full snapshot. */
  private lostStarts: number[] = [];
  readonly notices: Notice[] = [];

  /** Note lost chunks (they precede the events of their window). Returns their notices. */
  missing(chunks: ReadonlyArray<MissingChunk>): Notice[] {
    const out: Notice[] = [];
    for (const m of chunks) {
      if (m.has_full_snapshot) this.lostStarts.push(m.first_ts);
      out.push({
        ts: m.first_ts,
        message: `Part of page ${m.page + 1} is missing (chunk ${m.chunk}: ${m.reason}); its events are skipped.`,
      });
    }
    this.lostStarts.sort((a, b) => a - b);
    this.notices.push(...out);
    return out;
  }

  /** The events that can be replayed, and notices for what was skipped. */
  filter(events: ReadonlyArray<eventWithTime>): { events: eventWithTime[]; notices: Notice[] } {
    const out: eventWithTime[] = [];
    const notices: Notice[] = [];
    const note = (ts: number, message: string): void => {
      const n = { ts, message };
      notices.push(n);
      this.notices.push(n);
    };
    for (const e of events) {
      if (e.type === EventType.Meta) {
        if (this.heldMeta) note(this.heldMeta.timestamp, `${pageName(this.heldMeta)} has no full snapshot and is skipped.`);
        this.heldMeta = e;
        this.playable = false;
        this.segmentStart = e.timestamp;
        this.brokenNoted = false;
        continue;
      }
      if (e.type === EventType.FullSnapshot) {
        if (this.heldMeta) out.push(this.heldMeta);
        this.heldMeta = null;
        this.playable = true;
        this.segmentStart = Math.min(this.segmentStart, e.timestamp);
        out.push(e);
        continue;
      }
      if (this.playable && this.lostStartBetween(this.segmentStart, e.timestamp)) {
        this.playable = false; // the page's own start was lost: what follows belongs to a page we cannot draw
        note(e.timestamp, "A page view lost its start (full snapshot); it is skipped until the next page.");
        this.brokenNoted = true;
      }
      if (this.playable) out.push(e);
      else {
        this.dropped++;
        if (!this.brokenNoted && !this.heldMeta) {
          this.brokenNoted = true;
          note(e.timestamp, "Events without a full snapshot to draw them on are skipped.");
        }
      }
    }
    return { events: out, notices };
  }

  /** At the end of the recording: a page still waiting for its snapshot never got one. */
  finish(): Notice[] {
    if (!this.heldMeta) return [];
    const n = { ts: this.heldMeta.timestamp, message: `${pageName(this.heldMeta)} has no full snapshot and is skipped.` };
    this.heldMeta = null;
    this.notices.push(n);
    return [n];
  }

  get droppedCount(): number {
    return this.dropped;
  }

  private lostStartBetween(after: number, upTo: number): boolean {
    return this.lostStarts.some((ts) => ts > after && ts <= upTo);
  }
}

function pageName(meta: eventWithTime): string {
  const href = (meta.data as { href?: unknown }).href;
  return typeof href === "string" && href ? `The page view of ${href}` : "A page view";
}
