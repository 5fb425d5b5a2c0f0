// Moments worth jumping to, derived from the replayed events: page views,
// clicks, rage clicks (>= 3 clicks within 1 s and 30 px), dead clicks (no
// mutation, navigation or input within 1 s), errors (custom events tagged
// "error") and inputs ("typed in #email": which field, never what).
import { EventType, IncrementalSource, MouseInteractions, type eventWithTime } from "@rrweb/types";
import { NodeNames } from "./nodes";

export type MarkerKind = "page" | "click" | "rage" | "dead" | "error" | "input" | "notice";

export interface Marker {
  kind: MarkerKind;
  ts: number;
  label: string;
}

const RAGE_COUNT = 3;
const RAGE_WINDOW_MS = 1000;
const RAGE_RADIUS_PX = 30;
const DEAD_AFTER_MS = 1000;
const INPUT_MERGE_MS = 3000;
const NOT_DEAD_TAGS = new Set(["input", "textarea", "select", "option", "label"]);

interface Click {
  ts: number;
  x: number;
  y: number;
  id: number;
}

export class MarkerIndex {
  private readonly names = new NodeNames();
  private recent: Click[] = [];
  private rageUntil = -Infinity;
  private pendingDead: Array<{ click: Click; label: string }> = [];
  private lastInput: { id: number; ts: number } | null = null;

  /** Markers for a run of events (in time order, continuing the previous run). */
  add(events: ReadonlyArray<eventWithTime>): Marker[] {
    const out: Marker[] = [];
    for (const e of events) {
      this.settleDead(e.timestamp, out);
      this.names.observe(e);
      if (e.type === EventType.Meta) {
        const href = (e.data as { href?: unknown }).href;
        out.push({ kind: "page", ts: e.timestamp, label: `Page view: ${typeof href === "string" ? href : "(no URL)"}` });
        this.pendingDead = []; // a navigation answered them
      } else if (e.type === EventType.Custom) {
        const data = e.data as { tag?: unknown; payload?: unknown };
        if (data.tag === "error") out.push({ kind: "error", ts: e.timestamp, label: `Error: ${errorMessage(data.payload)}` });
      } else if (e.type === EventType.IncrementalSnapshot) {
        this.incremental(e, out);
      }
    }
    return out;
  }

  /** No more events will come (the recording is complete): decide the last clicks. */
  finish(): Marker[] {
    const out: Marker[] = [];
    this.settleDead(Infinity, out);
    return out;
  }

  private incremental(e: eventWithTime, out: Marker[]): void {
    const data = e.data as { source?: unknown; type?: unknown; id?: unknown; x?: unknown; y?: unknown };
    if (data.source === IncrementalSource.Mutation) {
      this.pendingDead = [];
    } else if (data.source === IncrementalSource.Input && typeof data.id === "number") {
      this.pendingDead = [];
      const last = this.lastInput;
      this.lastInput = { id: data.id, ts: e.timestamp };
      if (last && last.id === data.id && e.timestamp - last.ts < INPUT_MERGE_MS) return;
      out.push({ kind: "input", ts: e.timestamp, label: `Typed in ${this.names.selector(data.id)}` });
    } else if (data.source === IncrementalSource.MouseInteraction && data.type === MouseInteractions.Click && typeof data.id === "number") {
      const click = { ts: e.timestamp, x: num(data.x), y: num(data.y), id: data.id };
      const label = this.names.label(data.id);
      out.push({ kind: "click", ts: e.timestamp, label: `Click on ${label}` });
      this.rage(click, label, out);
      if (!NOT_DEAD_TAGS.has(this.names.tag(data.id))) this.pendingDead.push({ click, label });
    }
  }

  private rage(click: Click, label: string, out: Marker[]): void {
    this.recent = this.recent.filter(
      (c) => click.ts - c.ts <= RAGE_WINDOW_MS && Math.hypot(c.x - click.x, c.y - click.y) <= RAGE_RADIUS_PX,
    );
    this.recent.push(click);
    if (this.recent.length >= RAGE_COUNT && click.ts > this.rageUntil) {
      const first = this.recent[0] ?? click;
      out.push({ kind: "rage", ts: first.ts, label: `Rage click on ${label} (${this.recent.length} clicks)` });
      this.rageUntil = click.ts + RAGE_WINDOW_MS; // one marker per burst
    } else if (this.recent.length >= RAGE_COUNT) {
      this.rageUntil = click.ts + RAGE_WINDOW_MS;
    }
  }

  private settleDead(now: number, out: Marker[]): void {
    while (this.pendingDead.length) {
      const first = this.pendingDead[0];
      if (!first || now - first.click.ts <= DEAD_AFTER_MS) return;
      this.pendingDead.shift();
      out.push({ kind: "dead", ts: first.click.ts, label: `Dead click on ${first.label} (nothing happened)` });
    }
  }
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function errorMessage(payload: unknown): string {
  const msg = typeof payload === "object" && payload !== null ? (payload as { message?: unknown }).message : payload;
  const text = typeof msg === "string" ? msg : "unknown error";
  return text.length > 200 ? text.slice(0, 200) + "…" : text;
}
