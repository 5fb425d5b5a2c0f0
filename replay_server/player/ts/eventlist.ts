// The event list: clicks, page views, errors, inputs and notices, in time
// order; clicking one jumps there, and the current one follows playback.
import { el } from "./dom";
import { formatClock } from "./format";
import type { Marker } from "./markers";

const KIND_TEXT: Record<Marker["kind"], string> = {
  page: "Page",
  click: "Click",
  rage: "Rage",
  dead: "Dead",
  error: "Error",
  input: "Input",
  notice: "Notice",
};

interface Row {
  offset: number;
  item: HTMLLIElement;
}

export class EventList {
  readonly element: HTMLOListElement;
  private rows: Row[] = [];
  private current: Row | null = null;

  constructor(
    private readonly startMs: number,
    private readonly onJump: (offsetMs: number) => void,
  ) {
    this.element = el("ol", { className: "event-list", attrs: { "aria-label": "Events" } });
  }

  get count(): number {
    return this.rows.length;
  }

  /** Add markers (any order); rows stay sorted by time. */
  add(markers: ReadonlyArray<Marker>): void {
    for (const m of markers) {
      const offset = Math.max(0, m.ts - this.startMs);
      const button = el("button", { className: "event-item", attrs: { type: "button", title: m.label } }, [
        el("span", { className: `event-kind kind-${m.kind}`, text: KIND_TEXT[m.kind] }),
        el("span", { className: "event-text", text: m.label }),
        el("span", { className: "event-time", text: formatClock(offset) }),
      ]);
      button.addEventListener("click", () => this.onJump(offset));
      const item = el("li", { attrs: { "data-kind": m.kind, "data-offset": String(offset) } }, [button]);
      const row = { offset, item };
      const at = this.indexAfter(offset);
      const before = this.rows[at];
      this.element.insertBefore(item, before ? before.item : null);
      this.rows.splice(at, 0, row);
    }
  }

  /** Highlight the last event at or before `offsetMs` and keep it in view. */
  follow(offsetMs: number): void {
    const row = this.rows[this.indexAfter(offsetMs) - 1] ?? null;
    if (row === this.current) return;
    this.current?.item.classList.remove("is-current");
    this.current = row;
    if (!row) return;
    row.item.classList.add("is-current");
    const box = this.element.parentElement;
    if (box && box.scrollHeight > box.clientHeight) {
      const top = row.item.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - row.item.offsetHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 2);
      }
    }
  }

  /** Index of the first row after `offset` (binary search). */
  private indexAfter(offset: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.rows[mid]?.offset ?? 0) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
