// Fakes of the browser APIs the recorder uses (window timers, WebSocket, fetch, sendBeacon),
// installed on globalThis so that our modules run unchanged. Timers run only when a test
// advances the clock; sockets and requests are answered by the test, playing the server.
import { decode, encode } from "@msgpack/msgpack";

interface Timer {
  at: number;
  delay: number;
  fn: () => void;
  every: number;
}

export class FakeTimers {
  now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  readonly setTimeout = (fn: () => void, ms = 0): number => this.add(fn, ms, 0);
  readonly setInterval = (fn: () => void, ms = 0): number => this.add(fn, ms, Math.max(1, ms));
  readonly clearTimeout = (id?: number): void => {
    if (id !== undefined) this.timers.delete(id);
  };
  readonly clearInterval = this.clearTimeout;

  private add(fn: () => void, ms: number, every: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, delay: ms, fn, every });
    return id;
  }

  /** Delays of the pending one-shot timers (not intervals), soonest first. */
  pending(): number[] {
    return [...this.timers.values()].filter((t) => !t.every).sort((a, b) => a.at - b.at).map((t) => t.delay);
  }

  /** Fire the soonest one-shot timer (and whatever is due before it). Returns the time waited. */
  runNext(): number {
    const ats = [...this.timers.values()].filter((t) => !t.every).map((t) => t.at);
    if (!ats.length) throw new Error("FakeTimers: no timer pending");
    const wait = Math.min(...ats) - this.now;
    this.advance(wait);
    return wait;
  }

  /** Move the clock forward, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, Timer] | null = null;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      const [id, t] = next;
      this.now = t.at;
      if (t.every) t.at += t.every;
      else this.timers.delete(id);
      t.fn();
    }
    this.now = end;
  }
}

type Handler<E> = ((ev: E) => void) | null;

/** A WebSocket whose server side is the test: open(), receive(msg), drop(code). */
export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static all: FakeWebSocket[] = [];

  readyState = FakeWebSocket.CONNECTING;
  binaryType = "blob";
  onopen: Handler<unknown> = null;
  onmessage: Handler<{ data: unknown }> = null;
  onclose: Handler<{ code: number }> = null;
  /** client messages, msgpack-decoded */
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }

  send(data: Uint8Array): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("InvalidStateError: not open");
    this.sent.push(decode(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = FakeWebSocket.CLOSED;
  }

  // ---- the server's side ----

  open(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  receive(msg: Record<string, unknown>): void {
    const bytes = encode(msg);
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** The connection ends with `code` (as the browser reports it). */
  drop(code: number): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code });
  }

  /** Batches sent (seq and how: "events" or "gz"). */
  batches(): Record<string, unknown>[] {
    return this.sent.filter((m) => m.t === "batch");
  }
}

export interface FakeRequest {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
}

/** fetch answered from a list the test fills: a status and JSON body, or "network" (rejects). */
export class FakeFetch {
  readonly requests: FakeRequest[] = [];
  private readonly answers: Array<{ status: number; body: unknown } | "network"> = [];

  answer(status: number, body: unknown): void {
    this.answers.push({ status, body });
  }

  failNetwork(): void {
    this.answers.push("network");
  }

  readonly fetch = async (url: string, init: RequestInit): Promise<Response> => {
    this.requests.push({ url, init, body: JSON.parse(String(init.body)) as Record<string, unknown> });
    const a = this.answers.shift();
    if (!a) throw new Error("FakeFetch: no answer queued for " + url);
    if (a === "network") throw new TypeError("Failed to fetch");
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { "Content-Type": "application/json" } });
  };
}

export interface Browser {
  timers: FakeTimers;
  fetch: FakeFetch;
  beacons: Array<{ url: string; body: Blob }>;
}

function define(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}

/** Fresh fakes on globalThis (window has no sessionStorage: storage.ts falls back to memory). */
export function installBrowser(): Browser {
  const timers = new FakeTimers();
  const fetch = new FakeFetch();
  const beacons: Array<{ url: string; body: Blob }> = [];
  define("window", {
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    setInterval: timers.setInterval,
    clearInterval: timers.clearInterval,
  });
  define("WebSocket", FakeWebSocket);
  define("fetch", fetch.fetch);
  define("navigator", {
    sendBeacon: (url: string, body: Blob): boolean => {
      beacons.push({ url, body });
      return true;
    },
  });
  FakeWebSocket.all = [];
  return { timers, fetch, beacons };
}

/** Let pending promises (encoding, gzip, fetch bodies) settle. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Wait (real time, at most `ms`) until `done()`: gzip by CompressionStream runs off the main thread. */
export async function waitFor(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error("waitFor: timed out");
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
