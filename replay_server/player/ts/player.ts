// Entry point of the dashboard's replay player (player.html).
//
// Security: recorded content is untrusted. It is rebuilt only by rrweb's
// Replayer, inside an iframe sandboxed with "allow-same-origin" and never
// "allow-scripts" (UNSAFE_replayCanvas stays off). Everything else reaches
// the DOM as text.
import { Replayer } from "@rrweb/replay";
import type { eventWithTime } from "@rrweb/types";
import { Api, ApiError, type SessionMeta } from "./api";
import { Controls, type PlayState } from "./controls";
import { formatBytes } from "./format";
import { Layout } from "./layout";
import { detailsPanel } from "./meta";
import { PageList, pageAt, pageMarks, type PageMark } from "./pages";
import { Fitter } from "./scale";

const FULL_SNAPSHOT = 2;
const KEY_SEEK_MS = 5000;
const FIRST_FRAME_TIMEOUT_MS = 500;

function message(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return `Unexpected error: ${err.message}`;
  return "Unexpected error.";
}

/** `?t=SECONDS` of the page URL, as ms, or null. */
function requestedTime(): number | null {
  const raw = new URLSearchParams(window.location.search).get("t");
  if (raw === null || raw.trim() === "") return null;
  const seconds = Number(raw);
  return Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : null;
}

/** Whether a key press belongs to a control (typing, a button, a select) rather than to the player. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement && target.type === "range") return false;
  return target.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName);
}

/** Resolves once rrweb has drawn its first full snapshot (it does so on a timer after construction). */
function firstFrame(replayer: Replayer): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      replayer.off("fullsnapshot-rebuilded", done);
      resolve();
    };
    replayer.on("fullsnapshot-rebuilded", done);
    window.setTimeout(done, FIRST_FRAME_TIMEOUT_MS);
  });
}

class Player {
  private readonly replayer: Replayer;
  private readonly layout: Layout;
  private readonly controls: Controls;
  private readonly pages: PageList;
  private readonly marks: PageMark[];
  private readonly fitter: Fitter;
  private readonly total: number;
  /** Nothing can be drawn before the first full snapshot; seeks start there at the earliest. */
  private readonly firstSnapshot: number;
  private raf = 0;
  private seekRaf = 0;
  private pendingSeek = 0;
  private resumeAfterSeek = false;
  private shownPage = -1;

  constructor(layout: Layout, meta: SessionMeta, events: eventWithTime[]) {
    this.layout = layout;
    this.replayer = new Replayer(events, {
      root: layout.stage,
      skipInactive: false,
      showWarning: false,
      mouseTail: false,
      triggerFocus: false,
      pauseAnimation: true,
      UNSAFE_replayCanvas: false,
    });
    this.total = this.replayer.getMetaData().totalTime;
    const start = this.replayer.getMetaData().startTime;
    const snapshot = events.find((e) => e.type === FULL_SNAPSHOT);
    this.firstSnapshot = snapshot ? Math.max(0, snapshot.timestamp - start) : 0;

    this.fitter = new Fitter(layout.stage, this.replayer.wrapper, (scale) =>
      layout.setViewport(this.fitter.size, Math.round(scale * 100)),
    );
    this.replayer.on("resize", (dims) => {
      const d = dims as { width?: unknown; height?: unknown } | undefined;
      if (d && typeof d.width === "number" && typeof d.height === "number") this.fitter.setSize(d.width, d.height);
    });

    this.controls = new Controls({
      onTogglePlay: () => this.guard(() => this.toggle()),
      onSpeed: (speed) => this.guard(() => this.replayer.setConfig({ speed })),
      onSkipInactive: (skip) => this.guard(() => this.replayer.setConfig({ skipInactive: skip })),
      onCopyLink: () => this.guard(() => this.copyLink()),
      onSeekStart: () => this.guard(() => this.seekStart()),
      onSeekPreview: (ms) => this.guard(() => this.seekPreview(ms)),
      onSeekCommit: (ms) => this.guard(() => this.seekCommit(ms)),
    });
    this.controls.scrubber.setTotal(this.total);

    this.marks = pageMarks(meta.pages, events, this.total);
    this.controls.scrubber.setPageMarks(
      this.marks.map((m, i) => ({ offsetMs: m.offsetMs, label: `Page ${i + 1}: ${m.page.url}` })),
    );
    this.controls.scrubber.setActivity(events, start);
    this.pages = new PageList(this.marks, (mark) => this.guard(() => this.seek(mark.offsetMs, this.isPlaying())));

    layout.main.appendChild(this.controls.element);
    layout.setPages(this.pages.element, this.marks.length);

    for (const name of ["start", "pause", "finish", "resume"]) this.replayer.on(name, () => this.kick());
    this.replayer.on("skip-start", () => this.controls.setSkipping(true));
    this.replayer.on("skip-end", () => this.controls.setSkipping(false));
    document.addEventListener("visibilitychange", () => this.kick());
    document.addEventListener("keydown", (e) => this.guard(() => this.onKey(e)));
    // rrweb applies events from its own timers; a failure there must not go unreported or unhandled.
    window.addEventListener("error", (e) => {
      e.preventDefault();
      this.controls.flash(message(e.error instanceof Error ? e.error : new Error(e.message)), 6000);
    });
    window.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      this.controls.flash(message(e.reason), 6000);
    });
  }

  /** Show the first frame, or the moment asked for with ?t=, paused. */
  async open(at: number | null): Promise<void> {
    await firstFrame(this.replayer);
    if (at !== null && at > 0) this.seek(at, false);
    this.render();
  }

  private isPlaying(): boolean {
    return this.replayer.service.state.matches("playing");
  }

  private now(): number {
    return Math.min(Math.max(0, this.replayer.getCurrentTime()), this.total);
  }

  private state(): PlayState {
    if (this.isPlaying()) return "playing";
    return this.replayer.getCurrentTime() >= this.total ? "ended" : "paused";
  }

  /**
   * Go to `ms`. Paused, the frame shows every event up to and including `ms`
   * (rrweb applies only events strictly before the offset, hence the +1).
   */
  private seek(ms: number, play: boolean): void {
    const t = Math.min(Math.max(this.firstSnapshot, ms), this.total);
    if (play && t < this.total) this.replayer.play(t);
    else this.replayer.pause(t + 1);
    this.kick();
  }

  private toggle(): void {
    const state = this.state();
    if (state === "playing") this.replayer.pause();
    else if (state === "ended") this.replayer.play(0);
    else this.replayer.play(this.now());
    this.kick();
  }

  private seekStart(): void {
    this.resumeAfterSeek = this.isPlaying();
    if (this.resumeAfterSeek) this.replayer.pause();
  }

  /** While dragging, draw at most one frame per animation frame. */
  private seekPreview(ms: number): void {
    this.pendingSeek = ms;
    if (this.seekRaf) return;
    this.seekRaf = requestAnimationFrame(() => {
      this.seekRaf = 0;
      this.guard(() => this.seek(this.pendingSeek, false));
    });
  }

  private seekCommit(ms: number): void {
    if (this.seekRaf) {
      cancelAnimationFrame(this.seekRaf);
      this.seekRaf = 0;
    }
    this.seek(ms, this.resumeAfterSeek);
    this.resumeAfterSeek = false;
  }

  private onKey(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target)) return;
    if (e.key === " " || e.key === "k") {
      e.preventDefault();
      this.toggle();
    } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      const delta = e.key === "ArrowLeft" ? -KEY_SEEK_MS : KEY_SEEK_MS;
      this.seek(this.now() + delta, this.isPlaying());
    }
  }

  private copyLink(): void {
    const url = new URL(window.location.href);
    url.hash = "";
    url.search = "";
    url.searchParams.set("t", String(Math.floor(this.now() / 1000)));
    const link = url.toString();
    const clipboard = navigator.clipboard as Clipboard | undefined;
    if (!clipboard || typeof clipboard.writeText !== "function") {
      this.controls.showLink(link);
      return;
    }
    clipboard.writeText(link).then(
      () => this.controls.flash("Link copied"),
      () => this.controls.showLink(link),
    );
  }

  /** Redraw now, and keep redrawing each animation frame while playing and visible. */
  private kick(): void {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.frame());
  }

  private frame(): void {
    this.raf = 0;
    this.guard(() => this.render());
    if (this.isPlaying() && document.visibilityState === "visible") this.kick();
  }

  private render(): void {
    const now = this.now();
    this.controls.setState(this.state());
    this.controls.setTime(now, this.total);
    const index = pageAt(this.marks, now);
    if (index !== this.shownPage) {
      this.shownPage = index;
      this.pages.setCurrent(index);
      this.layout.setPage(this.marks[index], index, this.marks.length);
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.controls.flash(message(err), 6000);
    }
  }
}

async function run(root: HTMLElement): Promise<void> {
  const sessionId = root.dataset.sessionId || "";
  const api = new Api(root.dataset.apiBase || "/api/v1");
  const layout = new Layout(root);
  if (!sessionId) {
    layout.showError("No session was given to this page.");
    return;
  }
  layout.showLoading("Loading session…");
  try {
    const metaRequest = api.session(sessionId);
    const eventsRequest = api.events(sessionId, (loaded, total) => {
      const amount = total ? `${formatBytes(loaded)} of ${formatBytes(total)}` : formatBytes(loaded);
      layout.showLoading("Downloading recording…", amount);
    });
    // Don't leave a rejection unobserved if the metadata fails first.
    eventsRequest.catch(() => undefined);
    const meta = await metaRequest;
    layout.setDetails(detailsPanel(meta, meta.duration_ms));
    if (meta.live) layout.addBadge("Live", "badge-live", "Still recording: reload for newer events");
    const events = await eventsRequest;
    if (events.length < 2 || !events.some((e) => e.type === FULL_SNAPSHOT)) {
      layout.showError(
        events.length === 0 ? "Nothing has been recorded in this session yet." : "This recording has no full page snapshot to start from.",
        meta.live ? "The session is still live; try again in a few seconds." : "",
      );
      return;
    }
    layout.showLoading("Preparing replay…");
    const player = new Player(layout, meta, events);
    await player.open(requestedTime());
    layout.hideOverlay();
  } catch (err) {
    layout.showError(message(err), err instanceof ApiError && err.status ? `Status ${err.status}` : "");
  }
}

function main(): void {
  const root = document.getElementById("player");
  if (!root) return;
  run(root).catch(() => undefined);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
