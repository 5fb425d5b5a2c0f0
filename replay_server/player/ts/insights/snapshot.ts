// Draws a page from our own stored recording (the heatmap's `snapshot`: a
// session, page view and moment): the player's loader reads that page view's
// events up to the moment, the player's guards clean them, and rrweb's
// Replayer rebuilds the page paused there, in the replay's iframe sandboxed
// without scripts. Then the iframe is grown to the page's full height, so the
// whole page can be seen and heat placed anywhere on it.
//
// Security: as in the player (replay.ts), recorded content is untrusted and
// is rebuilt only by rrweb in an iframe sandboxed with "allow-same-origin"
// and never "allow-scripts"; masked and blocked elements stay as recorded.
import { Replayer } from "@rrweb/replay";
import { EventType, type eventWithTime } from "@rrweb/types";
import { ApiError, type Api, type SessionMeta } from "../api";
import { firstFrame } from "../firstframe";
import { PageGuard } from "../guard";
import { NO_REFERRER, ReferrerScrubber } from "../referrer";
import type { Snapshot } from "./data";
import type { Box } from "./geometry";

const FIRST_FRAME_TIMEOUT_MS = 3000;
const MAX_PAGE_HEIGHT = 30_000;

/** The event-time window holding page view `page` up to `ts` (its chunks' start; the whole session when unknown). */
export function snapshotWindow(meta: SessionMeta, snap: Snapshot): { from: number | null; to: number } {
  const chunks = meta.chunks.items.filter((c) => c.page === snap.page);
  const starts = chunks.filter((c) => c.has_full_snapshot).map((c) => c.first_ts);
  const from = starts.length ? Math.min(...starts.filter((t) => t <= snap.ts)) : null;
  return { from: from !== null && Number.isFinite(from) ? from : null, to: snap.ts };
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

export class DrawnPage {
  width: number;
  height: number;

  private constructor(
    readonly replayer: Replayer,
    readonly host: HTMLElement,
    width: number,
    height: number,
  ) {
    this.width = width;
    this.height = height;
  }

  /** Load the snapshot's events and draw them into `host` (which must be in the document). */
  static async draw(api: Api, snap: Snapshot, host: HTMLElement): Promise<DrawnPage> {
    const meta = await api.session(snap.session_id);
    const win = snapshotWindow(meta, snap);
    const page = await api.events(snap.session_id, win.from, win.to);
    const guard = new PageGuard();
    guard.missing(page.missing);
    const events: eventWithTime[] = guard.filter(page.events).events;
    new ReferrerScrubber().scrub(events);
    if (events.length < 2 || !events.some((e) => e.type === EventType.FullSnapshot)) {
      throw new ApiError(0, "no_snapshot", "The stored recording of this page has no full snapshot to draw it from.");
    }
    const replayer = new Replayer(events, {
      root: host,
      skipInactive: false,
      showWarning: false,
      mouseTail: false,
      triggerFocus: false,
      pauseAnimation: true,
      UNSAFE_replayCanvas: false,
    });
    replayer.iframe.setAttribute("referrerpolicy", NO_REFERRER);
    const start = replayer.getMetaData().startTime;
    await firstFrame(replayer, FIRST_FRAME_TIMEOUT_MS);
    // rrweb applies the events strictly before the offset: +1 includes `ts` itself.
    replayer.pause(Math.max(0, Math.min(snap.ts, events[events.length - 1]?.timestamp ?? snap.ts) - start + 1));
    const width = Number(replayer.iframe.getAttribute("width")) || snap.width || 1280;
    const drawn = new DrawnPage(replayer, host, width, snap.height || 800);
    await nextFrame();
    drawn.fullHeight();
    return drawn;
  }

  get document(): Document | null {
    return this.replayer.iframe.contentDocument;
  }

  /** Grow the iframe to the page's height (measured at the recorded viewport); returns whether it changed. */
  fullHeight(): boolean {
    const doc = this.document;
    if (!doc || !doc.documentElement) return false;
    const root = doc.documentElement;
    const body = doc.body;
    const measured = Math.max(root.scrollHeight, body ? body.scrollHeight : 0, this.height);
    const height = Math.min(MAX_PAGE_HEIGHT, Math.ceil(measured));
    const changed = height !== this.height;
    this.height = height;
    const iframe = this.replayer.iframe;
    iframe.setAttribute("width", String(this.width));
    iframe.setAttribute("height", String(height));
    this.replayer.wrapper.style.width = `${this.width}px`;
    this.replayer.wrapper.style.height = `${height}px`;
    doc.defaultView?.scrollTo(0, 0);
    return changed;
  }

  /** The page box (page px) of the first element matching a recorded selector, or null. */
  boxOf(selector: string): Box | null {
    const doc = this.document;
    if (!doc || !selector) return null;
    let found: Element | null = null;
    try {
      found = doc.querySelector(selector);
    } catch {
      return null; // not a selector this browser understands
    }
    if (!found) return null;
    const r = found.getBoundingClientRect();
    const view = doc.defaultView;
    const sx = view ? view.scrollX : 0;
    const sy = view ? view.scrollY : 0;
    if (r.width <= 0 && r.height <= 0) return null;
    return { left: r.left + sx, top: r.top + sy, width: r.width, height: r.height };
  }
}
