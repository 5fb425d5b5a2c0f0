// The scrubber: a range input over the session's time, with page boundaries
// and an activity strip under it. It only reports seeks; the player decides.
import { el } from "./dom";
import { formatClock } from "./format";
import type { eventWithTime } from "@rrweb/types";

const INCREMENTAL = 3;
// Incremental sources that mean a person did something (rrweb IncrementalSource).
const USER_SOURCES = new Set([1, 2, 3, 5, 6, 12, 14]); // mouse move/interaction, scroll, input, touch, drag, selection
const BUCKETS = 240;

export interface SeekHandlers {
  /** The user grabbed the handle (pointer or keyboard). */
  onSeekStart(): void;
  /** A position while dragging; may come many times a second. */
  onSeekPreview(ms: number): void;
  /** The final position. */
  onSeekCommit(ms: number): void;
}

export class Scrubber {
  readonly element: HTMLDivElement;
  private readonly input: HTMLInputElement;
  private readonly markers: HTMLDivElement;
  private readonly activity: HTMLDivElement;
  private total = 0;
  private dragging = false;

  constructor(handlers: SeekHandlers) {
    this.input = el("input", {
      className: "scrubber-input",
      attrs: { type: "range", min: "0", max: "0", step: "100", value: "0", "aria-label": "Seek" },
    });
    this.markers = el("div", { className: "scrubber-markers", attrs: { "aria-hidden": "true" } });
    this.activity = el("div", { className: "scrubber-activity", attrs: { "aria-hidden": "true" } });
    this.element = el("div", { className: "scrubber" }, [this.activity, this.markers, this.input]);

    const start = (): void => {
      if (this.dragging) return;
      this.dragging = true;
      handlers.onSeekStart();
    };
    // Arrow keys are the player's ±5 s shortcut (see player.ts); Home/End/PageUp/PageDown arrive here as input.
    this.input.addEventListener("pointerdown", start);
    this.input.addEventListener("input", () => {
      start();
      this.paint(Number(this.input.value));
      handlers.onSeekPreview(Number(this.input.value));
    });
    const finish = (): void => {
      if (!this.dragging) return;
      this.dragging = false;
      handlers.onSeekCommit(Number(this.input.value));
    };
    this.input.addEventListener("change", finish);
    this.input.addEventListener("keyup", finish);
    this.input.addEventListener("blur", finish);
    // A click that does not move the handle fires no change event; release still ends the seek.
    const release = (): void => {
      window.setTimeout(finish, 0);
    };
    window.addEventListener("pointerup", release);
    window.addEventListener("pointercancel", release);
  }

  get isDragging(): boolean {
    return this.dragging;
  }

  setTotal(totalMs: number): void {
    this.total = Math.max(0, totalMs);
    this.input.max = String(this.total);
    // Fine steps for short sessions, 1/1000 of the length for long ones.
    this.input.step = String(Math.max(10, Math.round(this.total / 1000)));
  }

  setTime(ms: number): void {
    if (this.dragging) return;
    const clamped = Math.min(Math.max(0, ms), this.total);
    this.input.value = String(clamped);
    this.paint(clamped);
  }

  /** Thin ticks where a new page view starts (the first page opens the timeline and gets none). */
  setPageMarks(marks: ReadonlyArray<{ offsetMs: number; label: string }>): void {
    this.markers.textContent = "";
    for (const mark of marks.slice(1)) {
      if (this.total <= 0) continue;
      const tick = el("span", { className: "scrubber-mark", attrs: { title: mark.label } });
      tick.style.left = `${(100 * mark.offsetMs) / this.total}%`;
      this.markers.appendChild(tick);
    }
  }

  /** Shade the track where the visitor was active, so idle stretches stand out. */
  setActivity(events: ReadonlyArray<eventWithTime>, startMs: number): void {
    this.activity.textContent = "";
    if (this.total <= 0) return;
    const counts = new Array<number>(BUCKETS).fill(0);
    for (const e of events) {
      if (e.type !== INCREMENTAL) continue;
      const source = (e.data as { source?: unknown }).source;
      if (typeof source !== "number" || !USER_SOURCES.has(source)) continue;
      const i = Math.min(BUCKETS - 1, Math.floor(((e.timestamp - startMs) / this.total) * BUCKETS));
      if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
    }
    const max = Math.max(1, ...counts);
    const frag = document.createDocumentFragment();
    counts.forEach((count, i) => {
      if (count === 0) return;
      const bar = el("span", { className: "scrubber-bar" });
      bar.style.left = `${(100 * i) / BUCKETS}%`;
      bar.style.width = `${100 / BUCKETS}%`;
      bar.style.opacity = String(0.25 + 0.75 * Math.sqrt(count / max));
      frag.appendChild(bar);
    });
    this.activity.appendChild(frag);
  }

  private paint(ms: number): void {
    const ratio = this.total > 0 ? ms / this.total : 0;
    this.element.style.setProperty("--progress", `${(ratio * 100).toFixed(3)}%`);
    this.input.setAttribute("aria-valuetext", `${formatClock(ms)} of ${formatClock(this.total)}`);
  }
}
