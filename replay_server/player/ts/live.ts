// Live view of a session still recording: the server's WebSocket
// (/api/v1/sessions/{id}/live) sends what is stored, then every acked batch;
// rrweb's live mode draws them about LIVE_DELAY_MS behind the recording.
// Security as in replay.ts: the sandboxed iframe never runs scripts.
import { Replayer } from "@rrweb/replay";
import type { eventWithTime } from "@rrweb/types";
import { CloseCode } from "../../../js-shared/closecode";
import { parseMissing, type MissingChunk } from "./api";
import { Controls } from "./controls";
import { EventList } from "./eventlist";
import { PageGuard, type Notice } from "./guard";
import { NO_REFERRER, ReferrerScrubber } from "./referrer";
import type { Layout } from "./layout";
import { MarkerIndex } from "./markers";
import { Fitter } from "./scale";
import { requestFullscreen } from "./util";

const LIVE_DELAY_MS = 1000;

export type LiveEnd = "ended" | "overflow" | "lost";

function isEvent(v: unknown): v is eventWithTime {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "number" &&
    typeof (v as { timestamp?: unknown }).timestamp === "number";
}

export class LiveView {
  private replayer: Replayer | null = null;
  private readonly backlog: eventWithTime[] = [];
  private readonly guard = new PageGuard();
  private readonly scrubber = new ReferrerScrubber();
  private readonly markers = new MarkerIndex();
  private events: EventList | null = null;
  private readonly controls: Controls;
  private socket: WebSocket | null = null;
  private done = false;
  private startMs = 0;

  constructor(
    private readonly layout: Layout,
    private readonly url: string,
    private readonly onEnd: (why: LiveEnd) => void,
    private readonly onFirstFrame: () => void,
  ) {
    const noop = (): void => undefined;
    this.controls = new Controls({
      onTogglePlay: noop,
      onSpeed: noop,
      onSkipInactive: noop,
      onCopyLink: noop,
      onFullscreen: () => requestFullscreen(layout.root),
      onSeekStart: noop,
      onSeekPreview: noop,
      onSeekCommit: noop,
      onJump: noop,
    });
    this.controls.setLive(true);
    layout.main.appendChild(this.controls.element);
  }

  start(): void {
    const ws = new WebSocket(this.url);
    this.socket = ws;
    ws.onmessage = (m) => {
      if (typeof m.data === "string") this.onFrame(m.data);
    };
    ws.onclose = (e) => this.end(e.code === CloseCode.TryAgainLater ? "overflow" : "lost");
  }

  /** Stop following and remove the live view's elements. */
  destroy(): void {
    this.done = true;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close();
    this.replayer?.destroy();
    this.controls.element.remove();
  }

  private end(why: LiveEnd): void {
    if (this.done) return;
    this.done = true;
    this.onEnd(why);
  }

  private onFrame(text: string): void {
    let frame: { t?: unknown; events?: unknown; missing?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    if (frame.t === "events" && Array.isArray(frame.events)) {
      const events = frame.events.filter(isEvent);
      if (this.replayer) this.push(events);
      else this.backlog.push(...events);
    } else if (frame.t === "caught_up") {
      this.begin(parseMissing(frame.missing));
    } else if (frame.t === "end") {
      this.end("ended");
    }
  }

  private begin(missing: MissingChunk[]): void {
    this.note(this.guard.missing(missing));
    this.replayer = new Replayer([], {
      root: this.layout.stage,
      liveMode: true,
      showWarning: false,
      mouseTail: false,
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
    });
    const replayer = this.replayer;
    replayer.iframe.setAttribute("referrerpolicy", NO_REFERRER);
    const fitter = new Fitter(this.layout.stage, replayer.wrapper, (scale) =>
      this.layout.setViewport(fitter.size, Math.round(scale * 100)),
    );
    replayer.on("resize", (dims) => {
      const d = dims as { width?: unknown; height?: unknown } | undefined;
      if (d && typeof d.width === "number" && typeof d.height === "number") fitter.setSize(d.width, d.height);
    });
    replayer.on("fullsnapshot-rebuilded", () => this.onFirstFrame());
    this.backlog.sort((a, b) => a.timestamp - b.timestamp);
    const last = this.backlog[this.backlog.length - 1];
    this.startMs = this.backlog[0]?.timestamp ?? Date.now();
    this.events = new EventList(this.startMs, () => undefined);
    this.layout.setEvents(this.events.element, 0);
    // Events up to LIVE_DELAY_MS before the newest one are drawn at once; later ones on the recording's pace.
    replayer.startLive((last ? last.timestamp : Date.now()) - LIVE_DELAY_MS);
    this.push(this.backlog.splice(0));
  }

  private push(events: eventWithTime[]): void {
    const { events: ok, notices } = this.guard.filter(events);
    this.scrubber.scrub(ok);
    this.note(notices);
    for (const e of ok) this.replayer?.addEvent(e);
    const markers = this.markers.add(ok);
    if (this.events) {
      this.events.add(markers);
      this.layout.setEventCount(this.events.count);
    }
    const newest = ok[ok.length - 1];
    if (newest) this.controls.setTime(newest.timestamp - this.startMs, newest.timestamp - this.startMs);
  }

  private note(notices: Notice[]): void {
    for (const n of notices) this.layout.addNotice(n.message);
  }
}
