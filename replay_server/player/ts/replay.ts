// The replay of a finished (or progressively loading) session: rrweb's
// Replayer plus our controls, timeline, markers, page and event lists.
//
// Security: recorded content is untrusted. It is rebuilt only by rrweb's
// Replayer, inside an iframe sandboxed with "allow-same-origin" and never
// "allow-scripts" (UNSAFE_replayCanvas stays off). Everything else reaches
// the DOM as text.
import { Replayer } from "@rrweb/replay";
import { EventType, type eventWithTime } from "@rrweb/types";
import type { SessionMeta } from "./api";
import { Controls, type PlayState } from "./controls";
import { EventList } from "./eventlist";
import { firstFrame } from "./firstframe";
import { formatDuration } from "./format";
import type { Notice } from "./guard";
import type { Layout } from "./layout";
import { MarkerIndex, type Marker } from "./markers";
import { PageList, pageAt, pageMarks, type PageMark } from "./pages";
import { NO_REFERRER } from "./referrer";
import { Fitter } from "./scale";
import { isTyping, message, requestFullscreen } from "./util";
import { insertSorted } from "./eventorder";

const KEY_SEEK_MS = 5000;
const SKIP_MARGIN_MS = 1000;
const FIRST_FRAME_TIMEOUT_MS = 2000;
const KEY_SPEEDS: Record<string, number> = { "1": 1, "2": 2, "3": 4, "4": 8 };
const START_TAG = "replay-server:start";

/**
 * Where the replay starts when it is opened in the middle (chunks around `?t=` first):
 * the session's start, and that earlier parts will be handed over with `prepend`.
 */
export interface EarlierParts {
  startTs: number;
}

export class Player {
  private readonly replayer: Replayer;
  private readonly controls: Controls;
  private readonly markers = new MarkerIndex();
  private readonly events: EventList;
  private pages: PageList;
  private marks: PageMark[];
  private readonly fitter: Fitter;
  readonly startMs: number;
  private firstSnapshot: number;
  /** Parts before the first handed-over events are still to come (`prepend`). */
  private earlierToCome: boolean;
  private loadedEnd: number;
  private expectedTotal: number;
  private complete = false;
  private skip = true;
  private waiting = false;
  private pendingSeek: { ms: number; play: boolean } | null = null;
  private raf = 0;
  private seekRaf = 0;
  private previewMs = 0;
  private resumeAfterSeek = false;
  private reportShown = false;
  private shownPage = -1;
  private readonly all: eventWithTime[];

  constructor(
    private readonly layout: Layout,
    private readonly meta: SessionMeta,
    first: eventWithTime[],
    expectedEndTs: number,
    earlier: EarlierParts | null = null,
  ) {
    this.all = [...first];
    const head = first[0];
    // Opened in the middle: rrweb's clock starts at its first event, so a custom event at the
    // session's start keeps offsets (?t=, the timeline) those of the whole session.
    const anchor: eventWithTime[] =
      earlier && head && earlier.startTs < head.timestamp
        ? [{ type: EventType.Custom, timestamp: earlier.startTs, data: { tag: START_TAG, payload: {} } }]
        : [];
    this.earlierToCome = anchor.length > 0;
    this.replayer = new Replayer([...anchor, ...first], {
      root: layout.stage,
      skipInactive: false, // we skip ourselves, exactly the gaps the timeline shows (see skipIdle)
      showWarning: false,
      mouseTail: false,
      triggerFocus: false,
      pauseAnimation: true,
      UNSAFE_replayCanvas: false,
    });
    // belt and braces: the events are scrubbed (referrer.ts) and the page itself is no-referrer
    this.replayer.iframe.setAttribute("referrerpolicy", NO_REFERRER);
    const metaData = this.replayer.getMetaData();
    this.startMs = metaData.startTime;
    this.loadedEnd = metaData.totalTime;
    this.expectedTotal = Math.max(this.loadedEnd, expectedEndTs - this.startMs);
    const snapshot = first.find((e) => e.type === EventType.FullSnapshot);
    this.firstSnapshot = snapshot ? Math.max(0, snapshot.timestamp - this.startMs) : 0;

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
      onSkipInactive: (skip) => this.guard(() => this.setSkip(skip)),
      onCopyLink: () => this.guard(() => this.copyLink()),
      onFullscreen: () => requestFullscreen(layout.root),
      onSeekStart: () => this.guard(() => this.seekStart()),
      onSeekPreview: (ms) => this.guard(() => this.seekPreview(ms)),
      onSeekCommit: (ms) => this.guard(() => this.seekCommit(ms)),
      onJump: (ms) => this.guard(() => this.seek(ms, this.isPlaying())),
    });
    this.controls.scrubber.setRange(this.startMs, this.total());
    this.controls.scrubber.activity.showGaps(true);
    this.events = new EventList(this.startMs, (ms) => this.guard(() => this.seek(ms, this.isPlaying())));
    this.marks = [];
    this.pages = this.buildPages();
    layout.main.appendChild(this.controls.element);
    layout.setEvents(this.events.element, 0);
    this.ingest(first);

    for (const name of ["start", "pause", "resume"]) this.replayer.on(name, () => this.kick());
    this.replayer.on("finish", () => this.onFinish());
    document.addEventListener("visibilitychange", () => this.kick());
    document.addEventListener("keydown", (e) => this.guard(() => this.onKey(e)));
    // rrweb applies events from its own timers; a failure there must not go unreported.
    window.addEventListener("error", (e) => {
      e.preventDefault();
      this.controls.flash(message(e.error instanceof Error ? e.error : new Error(e.message)), 6000);
    });
  }

  get controlsTools(): HTMLElement {
    return this.controls.tools;
  }

  /** Show the first frame; then play, or show the moment asked for with ?t= paused. */
  async open(at: number | null): Promise<void> {
    await firstFrame(this.replayer, FIRST_FRAME_TIMEOUT_MS);
    this.reportShown = true;
    if (at !== null) this.seek(at, false);
    else {
      this.replayer.play(this.firstSnapshot);
      this.shown();
    }
    this.render();
  }

  /** The moment asked for on opening is drawn. Read by the benchmarks: ms since navigation start. */
  private shown(): void {
    if (!this.reportShown) return;
    this.reportShown = false;
    document.documentElement.dataset.shownAt = String(Math.round(performance.now()));
  }

  /** More events, later than everything so far (the next downloaded window). */
  append(events: ReadonlyArray<eventWithTime>): void {
    for (const e of events) {
      this.replayer.addEvent(e);
      this.all.push(e);
      this.loadedEnd = Math.max(this.loadedEnd, e.timestamp - this.startMs);
    }
    this.ingest(events);
    // rrweb adds events in microtasks: act once they are in.
    void Promise.resolve().then(() => this.guard(() => this.afterAppend()));
  }

  /**
   * Events earlier than everything so far (backfill, in time order). They go straight into
   * rrweb's sorted list: its addEvent would apply an event earlier than the current moment
   * to the page drawn now. rrweb reads the list again on the next seek.
   */
  prepend(events: ReadonlyArray<eventWithTime>): void {
    if (!events.length) return;
    // The same array rrweb plays from (typed with its own copy of @rrweb/types).
    insertSorted(this.replayer.service.state.context.events as unknown as eventWithTime[], events);
    insertSorted(this.all, events);
    const snapshot = events.find((e) => e.type === EventType.FullSnapshot);
    if (snapshot) this.firstSnapshot = Math.min(this.firstSnapshot, Math.max(0, snapshot.timestamp - this.startMs));
    this.controls.scrubber.activity.add(events);
    const markers = new MarkerIndex(); // a run of its own: it begins with a full snapshot
    this.addMarkers([...markers.add(events), ...markers.finish()]);
    if (events.some((e) => e.type === EventType.FullSnapshot || e.type === EventType.Meta)) this.pages = this.buildPages();
    void Promise.resolve().then(() => this.guard(() => this.afterAppend()));
  }

  /** No earlier part will come any more. */
  backfilled(): void {
    this.earlierToCome = false;
    void Promise.resolve().then(() => this.guard(() => this.afterAppend()));
  }

  /** Everything is downloaded: the session ends at the last event. */
  finish(): void {
    this.complete = true;
    this.expectedTotal = this.loadedEnd;
    this.addMarkers(this.markers.finish());
    this.controls.scrubber.setTotal(this.total());
    this.controls.scrubber.setLoaded(this.total());
    this.layout.setEvents(this.events.element, this.events.count);
    void Promise.resolve().then(() => this.guard(() => this.afterAppend()));
  }

  notices(notices: ReadonlyArray<Notice>): void {
    for (const n of notices) this.layout.addNotice(n.message);
    this.events.add(notices.map((n) => ({ kind: "notice", ts: Math.max(n.ts, this.startMs), label: n.message })));
  }

  private ingest(events: ReadonlyArray<eventWithTime>): void {
    this.controls.scrubber.activity.add(events);
    this.addMarkers(this.markers.add(events));
    if (events.some((e) => e.type === EventType.FullSnapshot || e.type === EventType.Meta)) this.pages = this.buildPages();
    this.controls.scrubber.setLoaded(this.loadedEnd);
  }

  private addMarkers(markers: Marker[]): void {
    this.controls.scrubber.addMarkers(markers.filter((m) => m.kind !== "page"));
    this.events.add(markers);
  }

  private buildPages(): PageList {
    this.marks = pageMarks(this.meta.pages, this.all, this.total());
    this.controls.scrubber.setPageMarks(
      this.marks.map((m, i) => ({ offsetMs: m.offsetMs, label: `Page ${i + 1}: ${m.page.url}` })),
    );
    const list = new PageList(this.marks, (mark) => this.guard(() => this.seek(mark.offsetMs, this.isPlaying())));
    this.layout.setPages(list.element, this.marks.length);
    this.shownPage = -1;
    return list;
  }

  private afterAppend(): void {
    const pending = this.pendingSeek;
    if (pending && this.ready(pending.ms)) {
      this.pendingSeek = null;
      this.seek(pending.ms, pending.play);
    } else if (this.waiting && (this.complete || this.loadedEnd > this.replayer.getCurrentTime())) {
      this.waiting = false;
      if (!this.complete || this.now() < this.loadedEnd) this.replayer.play(this.now());
    }
    this.kick();
  }

  private onFinish(): void {
    // Playback caught up with the download: wait for the next window, then go on.
    if (!this.complete) {
      this.waiting = true;
      this.controls.flash("Loading…", 1500);
    }
    this.kick();
  }

  private total(): number {
    return this.complete ? this.loadedEnd : Math.max(this.expectedTotal, this.loadedEnd);
  }

  private isPlaying(): boolean {
    return this.replayer.service.state.matches("playing");
  }

  private now(): number {
    return Math.min(Math.max(0, this.replayer.getCurrentTime()), this.loadedEnd);
  }

  private state(): PlayState {
    if (this.isPlaying() || this.waiting) return "playing";
    return this.complete && this.replayer.getCurrentTime() >= this.total() ? "ended" : "paused";
  }

  /**
   * Go to `ms`. Paused, the frame shows every event up to and including `ms`
   * (rrweb applies only events strictly before the offset, hence the +1).
   * A moment not downloaded yet is reached once it is.
   */
  private seek(ms: number, play: boolean): void {
    const t = Math.min(Math.max(this.earlierToCome ? 0 : this.firstSnapshot, ms), this.total());
    this.waiting = false;
    if (!this.ready(t)) {
      this.pendingSeek = { ms: t, play };
      if (t > this.loadedEnd) this.replayer.pause(this.loadedEnd + 1);
      else this.replayer.pause();
      this.controls.flash("Loading that part of the session…", 3000);
    } else if (play && t < this.total()) {
      this.pendingSeek = null;
      this.replayer.play(t);
      this.shown();
    } else {
      this.pendingSeek = null;
      this.replayer.pause(t + 1);
      this.shown();
    }
    this.kick();
  }

  /** Whether `t` can be drawn: loaded from a full snapshot before it up to it. */
  private ready(t: number): boolean {
    const after = this.complete || t <= this.loadedEnd;
    const before = !this.earlierToCome || t >= this.firstSnapshot;
    return after && before;
  }

  private toggle(): void {
    const state = this.state();
    if (state === "playing") {
      this.waiting = false;
      this.replayer.pause();
    } else if (state === "ended") this.replayer.play(0);
    else this.replayer.play(this.now());
    this.kick();
  }

  private setSkip(skip: boolean): void {
    this.skip = skip;
    this.controls.scrubber.activity.showGaps(skip);
  }

  /** Playing inside an idle gap (no interaction for INACTIVE_MS): jump to just before it ends. */
  private skipIdle(now: number): void {
    if (!this.skip || !this.isPlaying()) return;
    for (const gap of this.controls.scrubber.activity.gaps) {
      if (now >= gap.fromMs + SKIP_MARGIN_MS && now < gap.toMs - SKIP_MARGIN_MS) {
        this.replayer.play(gap.toMs - SKIP_MARGIN_MS);
        this.controls.flash(`Skipped ${formatDuration(gap.toMs - now)} of inactivity`, 2000);
        return;
      }
    }
  }

  private seekStart(): void {
    this.resumeAfterSeek = this.isPlaying();
    if (this.resumeAfterSeek) this.replayer.pause();
  }

  /** While dragging, draw at most one frame per animation frame. */
  private seekPreview(ms: number): void {
    this.previewMs = ms;
    if (this.seekRaf) return;
    this.seekRaf = requestAnimationFrame(() => {
      this.seekRaf = 0;
      this.guard(() => this.seek(Math.min(this.previewMs, this.loadedEnd), false));
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
    const speed = KEY_SPEEDS[e.key];
    if (e.key === " " || e.key === "k") {
      e.preventDefault();
      this.toggle();
    } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      const delta = e.key === "ArrowLeft" ? -KEY_SEEK_MS : KEY_SEEK_MS;
      this.seek(this.now() + delta, this.isPlaying());
    } else if (speed !== undefined) {
      this.replayer.setConfig({ speed });
      this.controls.setSpeed(speed);
      this.controls.flash(`Speed ${speed}×`);
    } else if (e.key === "f") {
      requestFullscreen(this.layout.root);
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
    this.skipIdle(this.now());
    const now = this.now();
    const total = this.total();
    this.controls.setState(this.state());
    this.controls.setTime(now, total);
    this.events.follow(now);
    const index = pageAt(this.marks, now);
    if (index !== this.shownPage) {
      this.shownPage = index;
      this.pages.setCurrent(index);
      this.layout.setPage(this.marks[index], index, this.marks.length);
    }
  }

  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.controls.flash(message(err), 6000);
    }
  }
}
