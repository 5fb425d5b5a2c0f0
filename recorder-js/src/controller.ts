// Ties everything together for one tab: privacy gates, identity, one recording per page view,
// the transport, config from the server, page lifecycle (pagehide, bfcache, visibility).

import { EventType, IncrementalSource } from "@rrweb/types";
import { DEFAULT_CONFIG, parseConfig, recordingDiffers, type RecEvent, type SiteConfig } from "./config";
import { buildHello } from "./hello";
import { SessionClock, visitorId } from "./identity";
import { debug, later, listen, safe } from "./log";
import { browserSaysNo, clearConsent, giveConsent, hasConsent, isOptedOut, setOptedOut } from "./privacy";
import { BatchQueue } from "./queue";
import { Recorder } from "./recorder";
import { session, setCookie } from "./storage";
import { Transport } from "./transport";

export interface RecorderOptions {
  siteKey: string;
  /** origin (and optional path prefix) of the replay server, without a trailing slash */
  endpoint: string;
  requireConsent: boolean;
  /** false only with `data-ignore-dnt` on the script tag (the site owner's explicit choice;
   * the server still refuses DNT/GPC browsers unless the site's `honor_dnt` setting is off) */
  honorDnt: boolean;
}

const K_CONFIG = "_rs_cfg";
/** Without a welcome by then (WebSocket blocked?), record with the defaults over HTTP. */
const WELCOME_WAIT_MS = 4000;
const PERSIST_EVERY_MS = 5000;
/** Incremental sources that are user activity. */
const ACTIVITY_SOURCES: readonly number[] = [
  IncrementalSource.MouseMove,
  IncrementalSource.MouseInteraction,
  IncrementalSource.Scroll,
  IncrementalSource.ViewportResize,
  IncrementalSource.Input,
  IncrementalSource.TouchMove,
  IncrementalSource.MediaInteraction,
  IncrementalSource.Drag,
  IncrementalSource.Selection,
];

interface PageRun {
  readonly sid: string;
  readonly vid: string;
  readonly page: number;
  readonly queue: BatchQueue;
  readonly transport: Transport;
  readonly recorder: Recorder;
  /** a config from the server is known (this page, or cached by an earlier page of the session) */
  configKnown: boolean;
  /** the recording runs under a config confirmed by the server */
  confirmed: boolean;
  /** the server answered on this page (welcome or HTTP response) */
  answered: boolean;
  timers: number[];
}

function loadCachedConfig(sid: string): SiteConfig | null {
  try {
    const raw: unknown = JSON.parse(session.get(K_CONFIG) || "null");
    if (typeof raw !== "object" || raw === null) return null;
    const o = raw as Record<string, unknown>;
    return o.sid === sid ? parseConfig(o.config) : null;
  } catch {
    return null;
  }
}

function isActivity(e: RecEvent): boolean {
  if (e.type !== EventType.IncrementalSnapshot) return false;
  const source: unknown = (e.data as { source?: unknown }).source;
  return typeof source === "number" && ACTIVITY_SOURCES.indexOf(source) >= 0;
}

export class Controller {
  private run: PageRun | null = null;
  private readonly clock = new SessionClock();
  private listening = false;
  /** recording was running at pagehide: start a new page view if the page comes back from bfcache */
  private resumeOnShow = false;

  constructor(private readonly opts: RecorderOptions) {}

  /** Why recording may not start now, or null. */
  gate(): string | null {
    if (this.opts.honorDnt && browserSaysNo()) return "Do Not Track / Global Privacy Control";
    if (isOptedOut()) return "opted out";
    if (this.opts.requireConsent && !hasConsent()) return "waiting for consent";
    return null;
  }

  start(): void {
    if (this.run) return;
    const why = this.gate();
    if (why) return debug("not recording:", why);
    this.listen();
    const id = this.clock.beginPage(Date.now());
    if (id.fresh) {
      BatchQueue.discardPersisted();
      session.remove(K_CONFIG);
    }
    const run = this.newRun(id.sid, visitorId(), id.page);
    this.run = run;
    debug("session", id.sid, "page", id.page, "held batches", run.queue.length);
    const cached = loadCachedConfig(id.sid);
    run.transport.start();
    if (cached) {
      run.configKnown = true;
      if (cached.record) this.startRecording(run, cached, true);
    }
    run.timers.push(later("welcome wait", WELCOME_WAIT_MS, () => this.onWelcomeTimeout(run)));
    run.timers.push(window.setInterval(safe("persist", () => run.queue.persist()), PERSIST_EVERY_MS));
  }

  /** Stop recording and close the connection, after handing over what is held. */
  stop(): void {
    this.resumeOnShow = false;
    this.endRun(false);
  }

  consent(): void {
    giveConsent();
    this.start();
  }

  optOut(): void {
    setOptedOut(true);
    clearConsent();
    const run = this.run;
    this.run = null;
    this.resumeOnShow = false;
    if (run) this.dispose(run);
    BatchQueue.discardPersisted();
    session.remove(K_CONFIG);
    this.clock.clear();
    setCookie("_rs_vid", "", 0);
    session.remove("_rs_vid");
  }

  optIn(): void {
    setOptedOut(false);
  }

  sessionId(): string | null {
    if (this.run) return this.run.sid;
    return this.gate() ? null : this.clock.sessionId();
  }

  private newRun(sid: string, vid: string, page: number): PageRun {
    const queue = BatchQueue.load(sid);
    const run: PageRun = {
      sid,
      vid,
      page,
      queue,
      configKnown: false,
      confirmed: false,
      answered: false,
      timers: [],
      transport: new Transport(this.opts.endpoint, {
        hello: () => buildHello(this.opts.siteKey, sid, vid, page, loadCachedConfig(sid)),
        queue: () => queue,
        onConfig: (c) => this.onServerConfig(run, c),
        needConfig: () => !run.configKnown,
        onNoConfig: () => this.onNoConfig(run),
        onRefused: (reason, clear) => this.onRefused(run, reason, clear),
      }),
      recorder: new Recorder(page, {
        nextSeq: () => this.clock.nextSeq(),
        onBatch: (b) => {
          queue.push(b);
          run.transport.kick();
        },
        onEvent: (e) => this.onEvent(run, e),
      }),
    };
    return run;
  }

  private startRecording(run: PageRun, config: SiteConfig, confirmed: boolean): void {
    run.confirmed = confirmed;
    run.recorder.start(config, confirmed);
  }

  /** No welcome after 4 s (WebSocket blocked or stalled): HTTP fallback; without any config from
   * the server, record with the privacy defaults (held until the server's config is known). */
  private onWelcomeTimeout(run: PageRun): void {
    if (run !== this.run || run.answered) return;
    debug("no welcome yet: HTTP fallback");
    if (!run.configKnown && !run.recorder.started) this.startRecording(run, DEFAULT_CONFIG, false);
    run.transport.useHttp();
  }

  private onServerConfig(run: PageRun, config: SiteConfig): void {
    if (run !== this.run) return;
    session.set(K_CONFIG, JSON.stringify({ sid: run.sid, config }));
    run.configKnown = true;
    run.answered = true;
    if (!config.record) {
      debug("the server says: do not record");
      this.run = null;
      this.dispose(run);
      run.queue.clear();
      return;
    }
    const active = run.recorder.activeConfig;
    if (!active) return this.startRecording(run, config, true);
    if (recordingDiffers(active, config)) run.recorder.restart(config, run.confirmed);
    else run.recorder.confirm(config);
    run.confirmed = true;
  }

  private onNoConfig(run: PageRun): void {
    if (run !== this.run || run.configKnown) return;
    run.configKnown = true;
    run.answered = true;
    const active = run.recorder.activeConfig;
    if (active) run.recorder.confirm(active);
    else this.startRecording(run, DEFAULT_CONFIG, true);
    run.confirmed = true;
  }

  private onRefused(run: PageRun, reason: string, clearQueue: boolean): void {
    if (run !== this.run) return;
    debug("recording refused for this page:", reason);
    this.run = null;
    this.dispose(run);
    if (clearQueue) run.queue.clear();
    else run.queue.persist();
  }

  private onEvent(run: PageRun, e: RecEvent): void {
    if (!isActivity(e)) return;
    const now = Date.now();
    if (!this.clock.expired(now)) return this.clock.touch(now);
    // back after 30 minutes idle: the old session ends here, a new one starts with a new recording
    run.timers.push(
      later("rotate", 0, () => {
        if (run !== this.run) return;
        debug("session expired: starting a new one");
        this.endRun(true);
        this.start();
      }),
    );
  }

  /** Hand over what is held (flush, send, beacon, persist), then stop recording and transport. */
  private endRun(beacon: boolean): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    run.recorder.flush(true);
    run.transport.flushSync();
    if (beacon || !run.transport.healthy()) run.transport.beacon();
    run.queue.persist();
    this.clock.persist();
    this.dispose(run, true);
  }

  private dispose(run: PageRun, bye = false): void {
    for (const t of run.timers) {
      window.clearTimeout(t);
      window.clearInterval(t);
    }
    run.timers = [];
    run.recorder.stop();
    run.transport.close(bye);
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    listen(window, "pagehide", () => {
      this.resumeOnShow = this.run !== null;
      this.endRun(true);
    });
    listen(window, "pageshow", (ev: PageTransitionEvent) => {
      if (ev.persisted && this.resumeOnShow) this.start(); // back from bfcache: a new page view
    });
    listen(document, "visibilitychange", () => {
      if (document.visibilityState === "hidden") this.onHidden();
    });
    listen(window, "online", () => {
      if (this.run) this.run.transport.retryNow();
    });
  }

  /** The tab is hidden (maybe for good on mobile): hand over what is held, keep the connection. */
  private onHidden(): void {
    const run = this.run;
    if (!run) return;
    run.recorder.flush(true);
    run.transport.flushSync();
    if (!run.transport.healthy()) run.transport.beacon();
    run.queue.persist();
    this.clock.persist();
  }
}
