// The scrubber: a range input over the session's time, with an activity strip
// (events per second, skipped idle gaps), a lane of markers (hover tells what,
// click jumps) and page boundaries. It only reports seeks; the player decides.
import { ActivityStrip } from "./activity";
import { el } from "./dom";
import { formatClock } from "./format";
import type { Marker } from "./markers";

/** At most this many markers are drawn (clicks of a very long session); the event list keeps all. */
const MAX_MARKERS = 1500;

export interface SeekHandlers {
  /** The user grabbed the handle (pointer or keyboard). */
  onSeekStart(): void;
  /** A position while dragging; may come many times a second. */
  onSeekPreview(ms: number): void;
  /** The final position. */
  onSeekCommit(ms: number): void;
  /** A marker was clicked. */
  onJump(ms: number): void;
}

export class Scrubber {
  readonly element: HTMLDivElement;
  private readonly input: HTMLInputElement;
  private readonly markers: HTMLDivElement;
  private readonly lane: HTMLDivElement;
  private readonly loaded: HTMLDivElement;
  readonly activity: ActivityStrip;
  private readonly handlers: SeekHandlers;
  private total = 0;
  private startMs = 0;
  private markerCount = 0;
  private dragging = false;

  constructor(handlers: SeekHandlers) {
    this.input = el("input", {
      className: "scrubber-input",
      attrs: { type: "range", min: "0", max: "0", step: "100", value: "0", "aria-label": "Seek" },
    });
    this.handlers = handlers;
    this.markers = el("div", { className: "scrubber-markers", attrs: { "aria-hidden": "true" } });
    this.loaded = el("div", { className: "scrubber-loaded", attrs: { "aria-hidden": "true" } });
    this.activity = new ActivityStrip();
    this.lane = el("div", { className: "marker-lane", attrs: { role: "list", "aria-label": "Moments" } });
    const track = el("div", { className: "scrubber" }, [this.loaded, this.markers, this.input]);
    this.element = el("div", { className: "timeline" }, [this.lane, this.activity.element, track]);

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

  /** The timeline's origin (event clock) and length; markers and activity are placed on it. */
  setRange(startMs: number, totalMs: number): void {
    this.startMs = startMs;
    this.setTotal(totalMs);
    this.activity.setRange(startMs, this.total);
  }

  /** How much of the session is downloaded (the rest of the track is shown as loading). */
  setLoaded(ms: number): void {
    const ratio = this.total > 0 ? Math.min(1, ms / this.total) : 1;
    this.loaded.style.width = `${(ratio * 100).toFixed(3)}%`;
    this.element.classList.toggle("is-loading", ratio < 1);
  }

  addMarkers(markers: ReadonlyArray<Marker>): void {
    if (this.total <= 0) return;
    for (const m of markers) {
      if (this.markerCount >= MAX_MARKERS && m.kind === "click") continue;
      this.markerCount++;
      const offset = Math.min(Math.max(0, m.ts - this.startMs), this.total);
      const dot = el("button", {
        className: `marker marker-${m.kind}`,
        attrs: { type: "button", title: `${m.label} · ${formatClock(offset)}`, "aria-label": m.label, "data-kind": m.kind, role: "listitem" },
      });
      dot.style.left = `${(100 * offset) / this.total}%`;
      dot.addEventListener("click", () => this.handlers.onJump(offset));
      this.lane.appendChild(dot);
    }
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

  private paint(ms: number): void {
    const ratio = this.total > 0 ? ms / this.total : 0;
    this.element.style.setProperty("--progress", `${(ratio * 100).toFixed(3)}%`);
    this.input.setAttribute("aria-valuetext", `${formatClock(ms)} of ${formatClock(this.total)}`);
  }
}
