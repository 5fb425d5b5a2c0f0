// Delivery of queued batches: WebSocket (msgpack frames, hello/welcome/ack, reconnect with
// backoff, close-code reactions) and the HTTP fallback (fetch POST, one request in flight).

import { CloseCode, isServerAnswer } from "../../js-shared/closecode";
import { Backoff } from "./backoff";
import { decodeMessage, encodeBatch, encodeBatchPlain, encodeMessage } from "./codec";
import type { ErrorMessage, Hello, HttpIngestResponse, ServerMessage, SiteConfig } from "./config";
import { beacon, oldestThatFit, post, POST_MAX_BYTES, requestBody } from "./http";
import { debug, later, safe } from "./log";
import type { BatchQueue, QueuedBatch } from "./queue";

export interface TransportHooks {
  /** a fresh hello for each connection / request */
  hello(): Hello;
  queue(): BatchQueue;
  /** the server's config arrived (welcome or HTTP response) */
  onConfig(config: SiteConfig): void;
  /** true while this page has no config from the server */
  needConfig(): boolean;
  /** the HTTP fallback could not obtain a config: go on with the defaults */
  onNoConfig(): void;
  /** the server refuses this page (UnknownSite, Forbidden, ...); clearQueue: what is held will never be accepted */
  onRefused(reason: string, clearQueue: boolean): void;
}

const WELCOME_TIMEOUT_MS = 10000;
const MAX_FAILED_OPENS = 3;
const HTTP_MAX_BATCHES = 50;
const HTTP_MAX_BAD_REQUESTS = 5;

export class Transport {
  private ws: WebSocket | null = null;
  private welcomed = false;
  /** highest seq sent on the current connection */
  private lastSent = -1;
  private lastError: ErrorMessage | null = null;
  /** after a BadRequest/TooLarge without a named seq: drop the first batch <= this once the next welcome is in */
  private dropAfterWelcome = -1;
  private failedOpens = 0;
  private mode: "ws" | "http" = "ws";
  private stopped = false;
  private timer = 0;
  private welcomeTimer = 0;
  private pumping = false;
  private repump = false;
  private httpBusy = false;
  private httpSingle = false;
  private httpBad = 0;
  private readonly backoff = new Backoff();
  // TryAgainLater (the server cannot make data durable: disk full) follows a welcome, which
  // resets `backoff`: this one grows until a batch is acked again.
  private readonly unavailable = new Backoff(1000, 15000);

  constructor(
    private readonly endpoint: string,
    private readonly hooks: TransportHooks,
  ) {}

  get usingHttp(): boolean {
    return this.mode === "http";
  }

  start(): void {
    this.connect();
  }

  /** A batch was queued: send it. */
  kick(): void {
    if (this.stopped) return;
    if (this.mode === "http") this.scheduleHttp(0);
    else if (this.welcomed) this.pump();
  }

  /** Welcomed over an open WebSocket. */
  healthy(): boolean {
    return this.mode === "ws" && this.welcomed && this.ws !== null && this.ws.readyState === 1;
  }

  /** Retry at once (the browser came back online). */
  retryNow(): void {
    if (this.stopped || !this.timer) return;
    window.clearTimeout(this.timer);
    this.timer = 0;
    if (this.mode === "http") this.sendHttp();
    else this.connect();
  }

  /** Give up on the WebSocket for this page and use POST /ingest/batch. */
  useHttp(): void {
    if (this.mode === "http" || this.stopped) return;
    debug("switching to the HTTP fallback");
    this.mode = "http";
    this.closeSocket(false);
    window.clearTimeout(this.timer);
    this.timer = 0;
    this.backoff.reset();
    this.scheduleHttp(0);
  }

  /** Send what is unsent right now, without compression (pagehide: promises may never settle). */
  flushSync(): void {
    const ws = this.ws;
    if (!this.healthy() || !ws) return;
    for (const b of this.hooks.queue().list()) {
      if (b.seq <= this.lastSent) continue;
      ws.send(encodeBatchPlain(b));
      this.lastSent = b.seq;
    }
  }

  /** sendBeacon the oldest unacked batches that fit. */
  beacon(): void {
    const n = beacon(this.endpoint + "/ingest/batch", this.hooks.hello(), this.hooks.queue().list());
    if (n) debug("beacon sent", n, "batches");
  }

  /** Stop for good (this page): optional bye, close the socket, no reconnect. */
  close(bye: boolean): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.timer = 0;
    this.closeSocket(bye);
  }

  // ---- WebSocket ----

  private wsUrl(): string {
    return this.endpoint.replace(/^http/, "ws") + "/ingest/ws";
  }

  private connect(): void {
    this.timer = 0;
    if (this.stopped || this.mode !== "ws") return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.wsUrl());
    } catch (err) {
      debug("WebSocket refused", err);
      this.onClosed(CloseCode.Abnormal);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.welcomed = false;
    this.lastSent = -1;
    this.lastError = null;
    ws.onopen = safe("ws open", () => {
      if (ws === this.ws) ws.send(encodeMessage(this.hooks.hello()));
    });
    ws.onmessage = safe("ws message", (ev: MessageEvent) => {
      if (ws === this.ws) this.onMessage(decodeMessage(ev.data));
    });
    ws.onclose = safe("ws close", (ev: CloseEvent) => {
      if (ws === this.ws) this.onClosed(ev.code);
    });
    this.welcomeTimer = later("welcome timeout", WELCOME_TIMEOUT_MS, () => {
      if (ws === this.ws && !this.welcomed) this.onClosed(CloseCode.Abnormal);
    });
  }

  private closeSocket(bye: boolean): void {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    window.clearTimeout(this.welcomeTimer);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      if (bye && ws.readyState === 1) ws.send(encodeMessage({ t: "bye" }));
      ws.close(CloseCode.Normal);
    } catch (err) {
      debug("close", err);
    }
  }

  private onMessage(msg: ServerMessage | null): void {
    if (!msg) return;
    const q = this.hooks.queue();
    if (msg.t === "welcome") {
      window.clearTimeout(this.welcomeTimer);
      this.welcomed = true;
      this.failedOpens = 0;
      this.backoff.reset();
      q.dropUpTo(msg.acked);
      const first = q.first();
      if (first && first.seq <= this.dropAfterWelcome) q.dropFirst();
      this.dropAfterWelcome = -1;
      debug("welcome", msg.acked, msg.config);
      this.hooks.onConfig(msg.config);
      this.pump();
    } else if (msg.t === "ack") {
      this.unavailable.reset();
      q.dropUpTo(msg.seq);
    } else {
      debug("server error", msg.code, msg.message);
      this.lastError = msg;
    }
  }

  private onClosed(code: number): void {
    const wasWelcomed = this.welcomed;
    const sentUpTo = this.lastSent;
    const err = this.lastError;
    this.closeSocket(false);
    if (this.stopped || this.mode !== "ws") return;
    debug("ws closed", code, err ? err.code : "");
    if (code === CloseCode.UnknownSite || code === CloseCode.Forbidden) {
      return this.refuse(err ? err.code : String(code), false);
    }
    if (code === CloseCode.TooLarge && err && err.code === "session_too_large") return this.refuse(err.code, true);
    if (code === CloseCode.BadRequest && !wasWelcomed) return this.refuse(err ? err.code : "hello refused", false);
    if (code === CloseCode.BadRequest || code === CloseCode.TooLarge) this.markOffending(err, sentUpTo);
    if (code === CloseCode.RateLimited) return this.scheduleConnect(this.backoff.next(true));
    if (code === CloseCode.TryAgainLater) return this.scheduleConnect(Math.max(1000, this.unavailable.next()));
    // the socket did not get through (proxy, firewall): after a few tries, HTTP
    if (!wasWelcomed && !isServerAnswer(code) && ++this.failedOpens >= MAX_FAILED_OPENS) return this.useHttp();
    this.scheduleConnect(this.backoff.next());
  }

  private markOffending(err: ErrorMessage | null, sentUpTo: number): void {
    if (err && err.seq !== undefined) this.hooks.queue().dropSeq(err.seq);
    else if (sentUpTo >= 0) this.dropAfterWelcome = sentUpTo;
  }

  private refuse(reason: string, clearQueue: boolean): void {
    debug("refused", reason);
    this.close(false);
    this.hooks.onRefused(reason, clearQueue);
  }

  private scheduleConnect(delay: number): void {
    window.clearTimeout(this.timer);
    this.timer = later("reconnect", delay, () => this.connect());
  }

  /** Send the queued batches not yet sent on this connection, in seq order. */
  private pump(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    this.pumpLoop().catch((err: unknown) => debug("pump", err));
  }

  private async pumpLoop(): Promise<void> {
    try {
      do {
        this.repump = false;
        const ws = this.ws;
        for (const b of this.hooks.queue().list().slice()) {
          if (!ws || ws !== this.ws || !this.healthy()) break;
          if (b.seq <= this.lastSent) continue;
          const frame = await encodeBatch(b);
          if (ws !== this.ws || !this.healthy()) break; // a new connection resends from the start
          if (b.seq <= this.lastSent) continue; // sent meanwhile by flushSync
          ws.send(frame);
          this.lastSent = b.seq;
        }
      } while (this.repump && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  // ---- HTTP fallback ----

  private scheduleHttp(delay: number): void {
    if (this.timer || this.stopped) return;
    this.timer = later("http", delay, () => {
      this.timer = 0;
      this.sendHttp();
    });
  }

  /** One POST at a time; never lets a rejection escape (it would reach the page's unhandledrejection). */
  private sendHttp(): void {
    this.postQueued().catch((err: unknown) => {
      this.httpBusy = false;
      debug("http", err);
      this.scheduleHttp(this.backoff.next());
    });
  }

  private async postQueued(): Promise<void> {
    if (this.httpBusy || this.stopped || this.mode !== "http") return;
    const q = this.hooks.queue();
    const batches = oldestThatFit(q.list(), POST_MAX_BYTES, this.httpSingle ? 1 : HTTP_MAX_BATCHES);
    const first = q.first();
    if (!batches.length && first) batches.push(first); // alone over the bound: let the server judge
    if (!batches.length && !this.hooks.needConfig()) return;
    this.httpBusy = true;
    const res = await post(this.endpoint + "/ingest/batch", requestBody(this.hooks.hello(), batches));
    this.httpBusy = false;
    if (this.stopped || this.mode !== "http") return;
    if (res.ok) this.httpOk(res.response, batches);
    else this.httpFailed(res.status, res.code, batches);
  }

  private httpOk(res: HttpIngestResponse, sent: QueuedBatch[]): void {
    this.backoff.reset();
    this.httpBad = 0;
    this.httpSingle = false;
    const q = this.hooks.queue();
    q.dropUpTo(res.acked);
    if (res.config) this.hooks.onConfig(res.config);
    else if (this.hooks.needConfig()) this.hooks.onNoConfig();
    const last = sent[sent.length - 1];
    if (q.length && (!last || res.acked >= last.seq)) this.scheduleHttp(0);
  }

  private httpFailed(status: number, code: string, sent: QueuedBatch[]): void {
    debug("POST failed", status, code);
    if (status === 401 || status === 403) return this.refuse(code || String(status), false);
    if (status === 413 && code === "session_too_large") return this.refuse(code, true);
    if (status === 429) return this.scheduleHttp(this.backoff.next(true));
    if (status === 400 || status === 413) {
      if (status === 400 && ++this.httpBad > HTTP_MAX_BAD_REQUESTS) return this.refuse("bad requests", false);
      const only = sent.length === 1 ? sent[0] : undefined;
      if (sent.length > 1) this.httpSingle = true;
      else if (only) this.hooks.queue().dropSeq(only.seq);
      else this.hooks.onNoConfig(); // the hello-only request that asks for the config was refused
    }
    this.scheduleHttp(this.backoff.next());
  }
}
