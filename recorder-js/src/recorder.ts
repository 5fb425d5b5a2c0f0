// One rrweb recording of the page (Meta + FullSnapshot first), its event buffer, and the cutting
// of the buffer into seq-numbered batches of at most ~1 MB.

import { record } from "@rrweb/record";
import { EventType, IncrementalSource, MouseInteractions } from "@rrweb/types";
import type { RecEvent, SiteConfig } from "./config";
import { captureErrors, type ErrorPayload } from "./errors";
import { debug, later, listen, safe } from "./log";
import { makeBatch, utf8Length, type QueuedBatch } from "./queue";
import { redactUrl } from "./urls";

type RecordOptions = NonNullable<Parameters<typeof record<RecEvent>>[0]>;
type MaskInputOptions = NonNullable<RecordOptions["maskInputOptions"]>;

const MAX_BATCH_BYTES = 1024 * 1024;
const MAX_BATCH_EVENTS = 5000;
/** While the server's config is unknown, events wait in the buffer up to this many. */
const MAX_HELD_EVENTS = 5000;
const MAX_PENDING_ERRORS = 10;

export interface RecorderHooks {
  nextSeq(): number;
  onBatch(b: QueuedBatch): void;
  onEvent(e: RecEvent): void;
}

function validSelector(sel: string): boolean {
  try {
    document.createDocumentFragment().querySelector(sel);
    return true;
  } catch {
    return false;
  }
}

/** Every input type rrweb knows, plus hidden and file inputs; passwords always. */
const ALL_INPUTS: MaskInputOptions & Record<string, boolean> = {
  color: true,
  date: true,
  "datetime-local": true,
  email: true,
  month: true,
  number: true,
  range: true,
  search: true,
  tel: true,
  text: true,
  time: true,
  url: true,
  week: true,
  textarea: true,
  select: true,
  password: true,
  hidden: true,
  file: true,
};

/** Text typed into rich-text editors, comment boxes and chat widgets is input too: text inside an
 * editing host is masked whatever the settings (the server masks it as well). rrweb's text mask
 * checks ancestors for mutations, so typed characters and added nodes are covered. */
export const EDITABLE_SELECTOR = '[contenteditable]:not([contenteditable="false" i])';

/** rrweb options for a site config; an invalid selector from the server fails towards more masking. */
export function rrwebOptions(cfg: SiteConfig): RecordOptions {
  const blockOk = !cfg.blockSelector || validSelector(cfg.blockSelector);
  const maskOk = !cfg.maskTextSelector || validSelector(cfg.maskTextSelector);
  if (!blockOk || !maskOk) debug("invalid selector in config: masking everything");
  const maskAll = cfg.maskAllText || !blockOk || !maskOk;
  const maskInputs = cfg.maskAllInputs || !blockOk;
  return {
    // rrweb's maskAllInputs leaves hidden and file inputs (tokens, e-mails, file names) in clear
    maskAllInputs: false,
    maskInputOptions: maskInputs ? ALL_INPUTS : { password: true },
    blockClass: /^(rs-block|rr-block)$/,
    blockSelector: blockOk && cfg.blockSelector ? cfg.blockSelector : undefined,
    maskTextClass: /^(rs-mask|rr-mask)$/,
    maskTextSelector: maskAll
      ? "*"
      : cfg.maskTextSelector
        ? `${EDITABLE_SELECTOR}, ${cfg.maskTextSelector}`
        : EDITABLE_SELECTOR,
    ignoreClass: "rr-ignore",
    ignoreSelector: ".rs-ignore, .rr-ignore",
    sampling: { mousemove: cfg.mousemoveSampleMs, scroll: 150, input: "last" },
    inlineStylesheet: true,
    recordCanvas: false,
    collectFonts: false,
  };
}

/** Cut events into chunks of at most ~1 MB of JSON and MAX_BATCH_EVENTS events. */
export function splitEvents(events: RecEvent[]): { events: RecEvent[]; json: string }[] {
  const json = JSON.stringify(events);
  if (events.length <= MAX_BATCH_EVENTS && utf8Length(json) <= MAX_BATCH_BYTES) return [{ events, json }];
  const out: { events: RecEvent[]; json: string }[] = [];
  let cur: RecEvent[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const e of events) {
    const j = JSON.stringify(e);
    const n = utf8Length(j) + 1;
    if (cur.length && (size + n > MAX_BATCH_BYTES || cur.length >= MAX_BATCH_EVENTS)) {
      out.push({ events: cur, json: `[${parts.join(",")}]` });
      cur = [];
      parts = [];
      size = 2;
    }
    cur.push(e);
    parts.push(j);
    size += n;
  }
  if (cur.length) out.push({ events: cur, json: `[${parts.join(",")}]` });
  return out;
}

export class Recorder {
  private stopRrweb: (() => void) | null = null;
  private buffer: RecEvent[] = [];
  private config: SiteConfig | null = null;
  private confirmed = false;
  private interval = 0;
  private soon = 0;
  private cancelDomWait: (() => void) | null = null;
  private stopErrors: (() => void) | null = null;
  private pendingErrors: ErrorPayload[] = [];
  // The page height last reported (custom event "page-size"): the server needs it
  // for scroll depth as a percent of the page, which rrweb does not record.
  private pageHeight = 0;
  private pageSizeSoon = 0;

  constructor(
    readonly page: number,
    private readonly hooks: RecorderHooks,
  ) {}

  get started(): boolean {
    return this.config !== null;
  }

  get activeConfig(): SiteConfig | null {
    return this.config;
  }

  /** Start recording with `config`; `confirmed`: the config comes from the server (this session). */
  start(config: SiteConfig, confirmed: boolean): void {
    this.config = config;
    this.confirmed = confirmed;
    if (!this.stopErrors) this.stopErrors = captureErrors((p) => this.reportError(p));
    this.setInterval(config.batchMs);
    if (document.readyState === "loading") {
      // start after DOMContentLoaded so that Meta + FullSnapshot are the first events
      this.cancelDomWait = listen(document, "DOMContentLoaded", () => this.begin());
    } else this.begin();
  }

  /** The server confirmed `config` (same rrweb options): batches may now be cut. */
  confirm(config: SiteConfig): void {
    const interval = this.config ? this.config.batchMs : 0;
    this.config = config;
    this.confirmed = true;
    if (config.batchMs !== interval) this.setInterval(config.batchMs);
    this.flush();
  }

  /** A new recording of the same page with other options. `keep`: batch what is buffered first
   * (it was recorded under a config the server had confirmed); otherwise it is discarded. */
  restart(config: SiteConfig, keep: boolean): void {
    if (keep) this.flush(true);
    this.buffer = [];
    this.stopRecording();
    this.start(config, true);
  }

  /** Cut the buffer into batches (when the config is confirmed, or `force`d at pagehide / stop). */
  flush(force = false): void {
    window.clearTimeout(this.soon);
    this.soon = 0;
    if (!this.buffer.length) return;
    if (!this.confirmed && !force && this.buffer.length < MAX_HELD_EVENTS) return;
    const events = this.buffer;
    this.buffer = [];
    for (const chunk of splitEvents(events)) {
      this.hooks.onBatch(makeBatch(this.hooks.nextSeq(), this.page, chunk.events, chunk.json));
    }
  }

  /** Stop rrweb and the timers; the buffer is dropped (flush first to keep it). */
  stop(): void {
    this.stopRecording();
    window.clearInterval(this.interval);
    this.interval = 0;
    this.buffer = [];
    this.config = null;
    if (this.stopErrors) this.stopErrors();
    this.stopErrors = null;
  }

  private begin(): void {
    if (this.cancelDomWait) this.cancelDomWait();
    this.cancelDomWait = null;
    const cfg = this.config;
    if (!cfg || this.stopRrweb) return;
    let stop: (() => void) | undefined;
    try {
      stop = record<RecEvent>({
        ...rrwebOptions(cfg),
        emit: safe("emit", (e: RecEvent) => this.onEmit(e)),
        // rrweb rethrows errors of its observers into the page unless a handler claims them
        errorHandler: (err: unknown) => {
          debug("rrweb", err);
          return true;
        },
      });
    } catch (err) {
      debug("rrweb failed to start", err);
    }
    this.stopRrweb = stop || null;
    debug("rrweb started", !!stop);
    const pending = this.pendingErrors;
    this.pendingErrors = [];
    for (const p of pending) this.reportError(p);
  }

  private stopRecording(): void {
    if (this.cancelDomWait) this.cancelDomWait();
    this.cancelDomWait = null;
    const stop = this.stopRrweb;
    this.stopRrweb = null;
    if (stop) stop();
  }

  private setInterval(ms: number): void {
    window.clearInterval(this.interval);
    this.interval = window.setInterval(safe("batch timer", () => this.flush()), ms);
  }

  private onEmit(e: RecEvent): void {
    if (!this.stopRrweb && this.config === null) return; // stopped
    if (e.type === EventType.Meta) e.data.href = redactUrl(e.data.href, this.config);
    this.buffer.push(e);
    this.hooks.onEvent(e);
    // the first frame should reach the server fast: flush right after a full snapshot
    if (e.type === EventType.FullSnapshot && !this.soon) this.soon = later("flush", 0, () => this.flush());
    if (e.type === EventType.FullSnapshot) this.pageHeight = 0;
    if (
      e.type === EventType.IncrementalSnapshot &&
      e.data.source === IncrementalSource.MouseInteraction &&
      e.data.type === MouseInteractions.Click
    ) {
      // rrweb records a click's viewport position, and the page's scroll reaches the server
      // throttled, often after the click: the scroll at the click makes its page position exact.
      const click = e.data as { scrollX?: number; scrollY?: number };
      click.scrollX = Math.round(window.scrollX);
      click.scrollY = Math.round(window.scrollY);
    }
    const scrolled = e.type === EventType.IncrementalSnapshot && e.data.source === IncrementalSource.Scroll;
    if ((scrolled || e.type === EventType.FullSnapshot) && !this.pageSizeSoon) {
      this.pageSizeSoon = later("page size", 0, () => this.reportPageSize());
    }
  }

  private reportPageSize(): void {
    this.pageSizeSoon = 0;
    const root = document.documentElement;
    const height = Math.max(root ? root.scrollHeight : 0, document.body ? document.body.scrollHeight : 0);
    if (!this.stopRrweb || height <= 0 || height === this.pageHeight) return;
    this.pageHeight = height;
    try {
      record.addCustomEvent("page-size", { height });
    } catch (err) {
      debug("addCustomEvent", err);
    }
  }

  private reportError(p: ErrorPayload): void {
    if (!this.stopRrweb) {
      if (this.pendingErrors.length < MAX_PENDING_ERRORS) this.pendingErrors.push(p);
      return;
    }
    try {
      record.addCustomEvent("error", p);
    } catch (err) {
      debug("addCustomEvent", err);
    }
  }
}
