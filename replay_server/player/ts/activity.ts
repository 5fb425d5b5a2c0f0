// The activity strip: events per second over the session, drawn on a canvas
// (a 60-minute session has 3,600 seconds: no element per bar), with the idle
// stretches that "skip inactivity" fast-forwards shaded on top.
import { EventType, IncrementalSource, type eventWithTime } from "@rrweb/types";
import { el } from "./dom";
import { formatClock, formatDuration } from "./format";

/** rrweb's default idle threshold (interactions: the incremental sources MouseMove..Input). */
export const INACTIVE_MS = 10_000;

export interface Gap {
  fromMs: number;
  toMs: number;
}

export function isInteraction(e: eventWithTime): boolean {
  if (e.type !== EventType.IncrementalSnapshot) return false;
  const source = (e.data as { source?: unknown }).source;
  return typeof source === "number" && source >= IncrementalSource.MouseMove && source <= IncrementalSource.Input;
}

/**
 * Events per second since `startMs`, and the idle gaps between interactions, as events arrive:
 * in time order, or a run earlier than those before (a replay opened in the middle loads the
 * earlier chunks last), after which the gaps are worked out again over all interactions.
 */
export class ActivityCounter {
  readonly perSecond: number[] = [];
  readonly gaps: Gap[] = [];
  /** Interaction times (offsets from the start), in order. */
  private readonly interactions: number[] = [];

  add(events: ReadonlyArray<eventWithTime>, startMs: number): void {
    let earlier = false;
    for (const e of events) {
      const s = Math.floor((e.timestamp - startMs) / 1000);
      if (s < 0) continue;
      while (this.perSecond.length <= s) this.perSecond.push(0);
      this.perSecond[s] = (this.perSecond[s] ?? 0) + 1;
      if (!isInteraction(e)) continue;
      const at = e.timestamp - startMs;
      const last = this.interactions[this.interactions.length - 1];
      if (last === undefined || at >= last) {
        if (last !== undefined && at - last > INACTIVE_MS) this.gaps.push({ fromMs: last, toMs: at });
        this.interactions.push(at);
      } else {
        this.interactions.splice(upperBound(this.interactions, at), 0, at);
        earlier = true;
      }
    }
    if (earlier) this.regap();
  }

  private regap(): void {
    this.gaps.length = 0;
    this.interactions.forEach((at, i) => {
      const before = this.interactions[i - 1];
      if (before !== undefined && at - before > INACTIVE_MS) this.gaps.push({ fromMs: before, toMs: at });
    });
  }
}

function upperBound(sorted: ReadonlyArray<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ActivityStrip {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly gapLayer: HTMLDivElement;
  private readonly counts = new ActivityCounter();
  private startMs = 0;
  private total = 0;
  private raf = 0;

  constructor() {
    this.canvas = el("canvas", { className: "activity-canvas" });
    this.gapLayer = el("div", { className: "activity-gaps" });
    this.element = el("div", { className: "activity", attrs: { title: "Events per second" } }, [this.canvas, this.gapLayer]);
    this.element.addEventListener("mousemove", (e) => this.hover(e));
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  setRange(startMs: number, totalMs: number): void {
    this.startMs = startMs;
    this.total = Math.max(1, totalMs);
    this.schedule();
  }

  /** Idle stretches that skipping fast-forwards (offsets from the start). */
  get gaps(): ReadonlyArray<Gap> {
    return this.counts.gaps;
  }

  add(events: ReadonlyArray<eventWithTime>): void {
    this.counts.add(events, this.startMs);
    this.schedule();
  }

  /** Shade skipped gaps (only while skipping is on). */
  showGaps(show: boolean): void {
    this.element.classList.toggle("show-gaps", show);
  }

  private schedule(): void {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.raf = 0;
    const width = Math.max(1, Math.round(this.element.clientWidth));
    const height = Math.max(1, Math.round(this.element.clientHeight));
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, width, height);
    const columns = new Array<number>(width).fill(0);
    this.counts.perSecond.forEach((count, s) => {
      const x = Math.min(width - 1, Math.floor(((s * 1000) / this.total) * width));
      columns[x] = Math.max(columns[x] ?? 0, count);
    });
    const max = Math.max(1, ...columns);
    ctx.fillStyle = "#7f97d6";
    columns.forEach((count, x) => {
      if (count <= 0) return;
      const h = Math.max(1, Math.round(height * Math.sqrt(count / max)));
      ctx.fillRect(x, height - h, 1, h);
    });
    this.gapLayer.textContent = "";
    for (const gap of this.gaps) {
      const g = el("span", {
        className: "activity-gap",
        attrs: { title: `Idle ${formatDuration(gap.toMs - gap.fromMs)} (${formatClock(gap.fromMs)}–${formatClock(gap.toMs)}): skipped` },
      });
      g.style.left = `${(100 * gap.fromMs) / this.total}%`;
      g.style.width = `${(100 * (gap.toMs - gap.fromMs)) / this.total}%`;
      this.gapLayer.appendChild(g);
    }
  }

  private hover(e: MouseEvent): void {
    const box = this.element.getBoundingClientRect();
    const ms = ((e.clientX - box.left) / Math.max(1, box.width)) * this.total;
    const count = this.counts.perSecond[Math.floor(ms / 1000)] ?? 0;
    this.element.title = `${count} event${count === 1 ? "" : "s"}/s at ${formatClock(ms)}`;
  }
}
