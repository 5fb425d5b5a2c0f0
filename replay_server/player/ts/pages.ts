// The session's page views: where each starts on the timeline, and a list
// that jumps there and follows playback.
import { EventType, type eventWithTime } from "@rrweb/types";
import type { PageView } from "./api";
import { el } from "./dom";
import { formatClock } from "./format";

// How far a page's recorded start may sit from its first full snapshot and still be matched to it.
const SNAP_TOLERANCE_MS = 5000;

export interface PageMark {
  page: PageView;
  /** Offset of the page's first frame from the start of the replay, in ms. */
  offsetMs: number;
}

/**
 * Timeline offsets of the page views. A page starts with its own full
 * snapshot, so its start snaps to the nearest one; the recorded start time is
 * the fallback.
 */
export function pageMarks(pages: ReadonlyArray<PageView>, events: ReadonlyArray<eventWithTime>, totalMs: number): PageMark[] {
  const first = events[0];
  if (!first) return [];
  const start = first.timestamp;
  if (pages.length === 0) pages = pagesFromMeta(events);
  const snapshots = events.filter((e) => e.type === EventType.FullSnapshot).map((e) => e.timestamp);
  const marks = [...pages]
    .sort((a, b) => a.started_at_ms - b.started_at_ms)
    .map((page) => {
      let at = page.started_at_ms;
      let best = SNAP_TOLERANCE_MS + 1;
      for (const ts of snapshots) {
        const d = Math.abs(ts - page.started_at_ms);
        if (d < best) {
          best = d;
          at = ts;
        }
      }
      return { page, offsetMs: Math.min(Math.max(0, at - start), totalMs) };
    });
  return marks;
}

/** Without page metadata, each rrweb Meta event (a new recording) stands for a page view. */
function pagesFromMeta(events: ReadonlyArray<eventWithTime>): PageView[] {
  const pages: PageView[] = [];
  for (const e of events) {
    if (e.type !== EventType.Meta) continue;
    const href = (e.data as { href?: unknown }).href;
    pages.push({ page: pages.length, url: typeof href === "string" ? href : "", title: "", started_at_ms: e.timestamp, ended_at_ms: null });
  }
  return pages;
}

/** Index of the page playing at `ms` (the last one that started at or before it). */
export function pageAt(marks: ReadonlyArray<PageMark>, ms: number): number {
  let index = 0;
  marks.forEach((mark, i) => {
    if (mark.offsetMs <= ms) index = i;
  });
  return index;
}

export class PageList {
  readonly element: HTMLOListElement;
  private readonly items: HTMLLIElement[] = [];
  private current = -1;

  constructor(marks: ReadonlyArray<PageMark>, onJump: (mark: PageMark) => void) {
    this.element = el("ol", { className: "page-list" });
    marks.forEach((mark, i) => {
      const url = mark.page.url;
      const title = mark.page.title.trim();
      const button = el(
        "button",
        { className: "page-item", attrs: { type: "button", title: url } },
        [
          el("span", { className: "page-index", text: String(i + 1) }),
          el("span", { className: "page-text" }, [
            el("span", { className: "page-title", text: title || "(untitled)" }),
            el("span", { className: "page-url", text: url || "(no URL)" }),
          ]),
          el("span", { className: "page-time", text: formatClock(mark.offsetMs) }),
        ],
      );
      button.addEventListener("click", () => onJump(mark));
      const item = el("li", {}, [button]);
      this.items.push(item);
      this.element.appendChild(item);
    });
  }

  setCurrent(index: number): void {
    if (index === this.current) return;
    const prev = this.items[this.current];
    if (prev) {
      prev.classList.remove("is-current");
      prev.firstElementChild?.removeAttribute("aria-current");
    }
    this.current = index;
    const item = this.items[index];
    if (!item) return;
    item.classList.add("is-current");
    item.firstElementChild?.setAttribute("aria-current", "step");
    revealInScroller(item);
  }
}

/** Scroll the nearest scrollable ancestor (never the page itself) so `item` is in view. */
function revealInScroller(item: HTMLElement): void {
  let box = item.parentElement;
  while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
  if (!box || box === document.body || box === document.documentElement) return;
  const itemBox = item.getBoundingClientRect();
  const view = box.getBoundingClientRect();
  if (itemBox.top < view.top) box.scrollTop -= view.top - itemBox.top;
  else if (itemBox.bottom > view.bottom) box.scrollTop += itemBox.bottom - view.bottom;
}
