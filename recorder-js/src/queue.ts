// Unacknowledged batches, in seq order, kept in memory and persisted (bounded) to sessionStorage
// so that the next page of the same session resends them after its hello.

import type { RecEvent } from "./config";
import { debug } from "./log";
import { session } from "./storage";

const K_QUEUE = "_rs_q";
/** Bound of the serialized queue in sessionStorage (characters); the oldest batches go first. */
export const PERSIST_MAX = 2 * 1024 * 1024;
/** Bound of the queue in memory (bytes of JSON); the oldest batches go first. */
const MEMORY_MAX = 16 * 1024 * 1024;

export interface QueuedBatch {
  readonly seq: number;
  readonly page: number;
  readonly events: RecEvent[];
  /** JSON of `events` (for sessionStorage, sendBeacon and the HTTP fallback) */
  readonly json: string;
  /** UTF-8 size of `json` */
  readonly bytes: number;
  /** cached gzip(msgpack(events)) once computed, null when not worth it or unavailable */
  gz?: Uint8Array | null;
}

export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00) {
      n += 2; // surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else if (c >= 0x800) n += 2;
    else if (c >= 0x80) n += 1;
  }
  return n;
}

export function makeBatch(seq: number, page: number, events: RecEvent[], json?: string): QueuedBatch {
  const j = json ?? JSON.stringify(events);
  return { seq, page, events, json: j, bytes: utf8Length(j) };
}

function isBatchLike(v: unknown): v is { seq: number; page: number; events: RecEvent[] } {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.seq === "number" && typeof o.page === "number" && Array.isArray(o.events);
}

export class BatchQueue {
  private items: QueuedBatch[] = [];
  private bytes = 0;
  private dirty = false;

  constructor(readonly sid: string) {}

  /** The queue persisted for `sid` by an earlier page of the session (empty if none). */
  static load(sid: string): BatchQueue {
    const q = new BatchQueue(sid);
    const raw = session.get(K_QUEUE);
    if (!raw) return q;
    try {
      const data: unknown = JSON.parse(raw);
      const o = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
      if (o.sid !== sid || !Array.isArray(o.batches)) return q;
      for (const b of o.batches as unknown[]) {
        if (isBatchLike(b)) q.push(makeBatch(b.seq, b.page, b.events));
      }
      q.dirty = false;
    } catch (err) {
      debug("queue load", err);
    }
    return q;
  }

  static discardPersisted(): void {
    session.remove(K_QUEUE);
  }

  get length(): number {
    return this.items.length;
  }

  list(): readonly QueuedBatch[] {
    return this.items;
  }

  first(): QueuedBatch | undefined {
    return this.items[0];
  }

  push(b: QueuedBatch): void {
    const last = this.items[this.items.length - 1];
    if (last && b.seq <= last.seq) {
      // keep seq order (only happens when loading a queue written by another page of the tab)
      if (this.items.some((x) => x.seq === b.seq)) return;
      this.items.push(b);
      this.items.sort((x, y) => x.seq - y.seq);
    } else this.items.push(b);
    this.bytes += b.bytes;
    this.dirty = true;
    while (this.bytes > MEMORY_MAX && this.items.length > 1) this.dropFirst();
  }

  /** Drop every batch with seq <= `seq` (cumulative ack). */
  dropUpTo(seq: number): void {
    while (this.items.length && (this.items[0]?.seq ?? Infinity) <= seq) this.dropFirst();
  }

  /** Drop the batch with this seq (refused by the server). */
  dropSeq(seq: number): void {
    const i = this.items.findIndex((b) => b.seq === seq);
    const b = i >= 0 ? this.items.splice(i, 1)[0] : undefined;
    if (b) {
      this.bytes -= b.bytes;
      this.dirty = true;
    }
  }

  dropFirst(): QueuedBatch | undefined {
    const b = this.items.shift();
    if (b) {
      this.bytes -= b.bytes;
      this.dirty = true;
    }
    return b;
  }

  clear(): void {
    this.items = [];
    this.bytes = 0;
    this.dirty = false;
    session.remove(K_QUEUE);
  }

  /** Write the newest batches that fit in PERSIST_MAX to sessionStorage (only when changed). */
  persist(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    if (!this.items.length) {
      session.remove(K_QUEUE);
      return;
    }
    const parts: string[] = [];
    let size = 0;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const b = this.items[i];
      if (!b) continue;
      const part = `{"seq":${b.seq},"page":${b.page},"events":${b.json}}`;
      if (size + part.length > PERSIST_MAX) break;
      parts.unshift(part);
      size += part.length + 1;
    }
    const head = `{"sid":${JSON.stringify(this.sid)},"batches":[`;
    if (!session.set(K_QUEUE, head + parts.join(",") + "]}")) debug("queue persist failed");
  }
}
