// The transport's state machine against fake browser APIs: the test plays the server.
import { EventType } from "@rrweb/types";
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { decode } from "@msgpack/msgpack";
import { CloseCode } from "../../js-shared/closecode";
import type { Hello, RecEvent, SiteConfig } from "../src/config";
import { BatchQueue, makeBatch, type QueuedBatch } from "../src/queue";
import { Transport } from "../src/transport";
import { FakeWebSocket, installBrowser, settle, waitFor, type Browser } from "./browser";

const HELLO: Hello = {
  t: "hello",
  v: 1,
  site: "pk_test",
  sid: "sid-1",
  vid: "vid-1",
  page: 0,
  url: "https://shop.example/",
  referrer: "",
  title: "Shop",
  viewport: [1280, 720],
  screen: [1920, 1080],
  lang: "en",
  tz: "UTC",
  clock: 0,
};
const CONFIG = { record: true, maskAllInputs: true, maskAllText: false, blockSelector: "", maskTextSelector: "", batchMs: 2000, mousemoveSampleMs: 50 };

function batch(seq: number, payloadChars = 10): QueuedBatch {
  const events: RecEvent[] = [{ type: EventType.Custom, data: { tag: "t", payload: "x".repeat(payloadChars) }, timestamp: 1000 + seq }];
  return makeBatch(seq, 0, events);
}

interface Harness {
  browser: Browser;
  transport: Transport;
  queue: BatchQueue;
  configs: SiteConfig[];
  refused: Array<[string, boolean]>;
  noConfig: number;
  needConfig: boolean;
}

let h: Harness;

function setup(): Harness {
  const browser = installBrowser();
  const queue = new BatchQueue("sid-1");
  const harness: Harness = { browser, queue, configs: [], refused: [], noConfig: 0, needConfig: true, transport: null as unknown as Transport };
  harness.transport = new Transport("https://replay.example", {
    hello: () => HELLO,
    queue: () => queue,
    onConfig: (c) => harness.configs.push(c),
    needConfig: () => harness.needConfig,
    onNoConfig: () => harness.noConfig++,
    onRefused: (reason, clear) => harness.refused.push([reason, clear]),
  });
  return harness;
}

function socket(): FakeWebSocket {
  const ws = FakeWebSocket.all[FakeWebSocket.all.length - 1];
  assert.ok(ws, "no WebSocket was opened");
  return ws;
}

/** Open the latest socket and welcome it (the server holds everything up to `acked`). */
async function welcome(acked: number): Promise<FakeWebSocket> {
  const ws = socket();
  ws.open();
  ws.receive({ t: "welcome", sid: "sid-1", acked, config: CONFIG });
  await settle();
  return ws;
}

function sentSeqs(ws: FakeWebSocket): unknown[] {
  return ws.batches().map((b) => b.seq);
}

function queued(): number[] {
  return h.queue.list().map((b) => b.seq);
}

beforeEach(() => {
  h = setup();
  // full jitter at its upper bound: delays are deterministic
  mock.method(Math, "random", () => 0.999);
});

afterEach(() => {
  h.transport.close(false);
  mock.restoreAll();
});

describe("WebSocket", () => {
  test("opens at the endpoint's ws URL and sends the hello first, batches only after the welcome", async () => {
    h.queue.push(batch(0));
    h.transport.start();
    const ws = socket();
    assert.equal(ws.url, "wss://replay.example/ingest/ws");
    assert.equal(ws.binaryType, "arraybuffer");
    ws.open();
    h.transport.kick();
    await settle();
    assert.deepEqual(ws.sent.map((m) => m.t), ["hello"]);
    assert.equal(ws.sent[0]?.site, "pk_test");
    assert.equal(h.transport.healthy(), false);
  });

  test("a welcome drops what the server holds, hands over its config and sends the rest in seq order", async () => {
    for (const s of [0, 1, 2]) h.queue.push(batch(s));
    h.transport.start();
    const ws = await welcome(0);
    assert.deepEqual(queued(), [1, 2]);
    assert.equal(h.configs.length, 1);
    assert.equal(h.configs[0]?.batchMs, 2000);
    assert.deepEqual(sentSeqs(ws), [1, 2]);
    assert.deepEqual(ws.batches()[0]?.events, h.queue.first()?.events);
    assert.equal(h.transport.healthy(), true);
  });

  test("an ack drops batches up to its seq; a kicked batch is sent once", async () => {
    h.queue.push(batch(0));
    h.queue.push(batch(1));
    h.transport.start();
    const ws = await welcome(-1);
    ws.receive({ t: "ack", seq: 0 });
    assert.deepEqual(queued(), [1]);
    h.queue.push(batch(2));
    h.transport.kick();
    h.transport.kick();
    await settle();
    assert.deepEqual(sentSeqs(ws), [0, 1, 2]);
  });

  test("a batch over 1 KB is sent gzip'd (gzip of msgpack of its events); a small one as plain events", async () => {
    h.queue.push(batch(0));
    h.queue.push(batch(1, 5000));
    h.transport.start();
    const ws = await welcome(-1);
    await waitFor(() => ws.batches().length === 2);
    const [small, big] = ws.batches();
    assert.ok(small && big);
    assert.ok(Array.isArray(small.events) && small.gz === undefined);
    assert.ok(big.gz instanceof Uint8Array && big.events === undefined);
    assert.deepEqual(decode(gunzipSync(big.gz)), h.queue.list()[1]?.events);
  });

  for (const code of [CloseCode.ServerError, CloseCode.ServiceRestart, CloseCode.Timeout, CloseCode.Abnormal]) {
    test(`after close ${code}: reconnects with the short backoff and resends what is not acked`, async () => {
      for (const s of [0, 1, 2]) h.queue.push(batch(s));
      h.transport.start();
      const first = await welcome(-1);
      first.receive({ t: "ack", seq: 0 });
      first.drop(code);
      assert.deepEqual(h.refused, []);
      assert.deepEqual(h.browser.timers.pending(), [0.999 * 500]);
      h.browser.timers.advance(500);
      assert.equal(FakeWebSocket.all.length, 2);
      const second = await welcome(1);
      assert.deepEqual(sentSeqs(second), [2]);
      assert.deepEqual(queued(), [2]);
    });
  }

  test("4401 and 4403 stop the page for good, with the error's code or the close code; the queue is kept", async () => {
    h.queue.push(batch(0));
    h.transport.start();
    let ws = socket();
    ws.open();
    ws.receive({ t: "error", code: "unknown_site", message: "no such site" });
    ws.drop(CloseCode.UnknownSite);
    assert.deepEqual(h.refused, [["unknown_site", false]]);
    assert.deepEqual(h.browser.timers.pending(), []);
    h.browser.timers.advance(600_000);
    assert.equal(FakeWebSocket.all.length, 1);
    assert.deepEqual(queued(), [0]);

    h = setup();
    h.transport.start();
    ws = await welcome(-1);
    ws.drop(CloseCode.Forbidden);
    assert.deepEqual(h.refused, [["4403", false]]);
    h.browser.timers.advance(600_000);
    assert.equal(FakeWebSocket.all.length, 1);
  });

  test("4413 session_too_large stops the page and asks to clear the queue", async () => {
    h.queue.push(batch(0));
    h.transport.start();
    const ws = await welcome(-1);
    ws.receive({ t: "error", code: "session_too_large", message: "" });
    ws.drop(CloseCode.TooLarge);
    assert.deepEqual(h.refused, [["session_too_large", true]]);
  });

  test("4413 naming a seq drops exactly that batch; the others are resent after the next welcome", async () => {
    for (const s of [0, 1, 2]) h.queue.push(batch(s));
    h.transport.start();
    const ws = await welcome(-1);
    ws.receive({ t: "error", code: "batch_too_large", message: "", seq: 1 });
    ws.drop(CloseCode.TooLarge);
    assert.deepEqual(queued(), [0, 2]);
    h.browser.timers.advance(500);
    const next = await welcome(-1);
    assert.deepEqual(sentSeqs(next), [0, 2]);
  });

  test("4400 after the welcome, without a seq: the first unacked batch is dropped once the next welcome is in", async () => {
    for (const s of [0, 1, 2]) h.queue.push(batch(s));
    h.transport.start();
    const ws = await welcome(-1);
    ws.receive({ t: "ack", seq: 0 });
    ws.receive({ t: "error", code: "invalid_event", message: "" });
    ws.drop(CloseCode.BadRequest);
    assert.deepEqual(h.refused, []);
    assert.deepEqual(queued(), [1, 2], "nothing is dropped before the server says what it holds");
    h.browser.timers.advance(500);
    const next = await welcome(0);
    assert.deepEqual(queued(), [2]);
    assert.deepEqual(sentSeqs(next), [2]);
  });

  test("4400 before the welcome refuses the page (the hello itself is bad)", () => {
    h.transport.start();
    const ws = socket();
    ws.open();
    ws.receive({ t: "error", code: "invalid_message", message: "" });
    ws.drop(CloseCode.BadRequest);
    assert.deepEqual(h.refused, [["invalid_message", false]]);
  });

  test("4429 waits the rate-limit backoff (5 s .. about 2 min) and never falls back to HTTP", () => {
    h.transport.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      socket().drop(CloseCode.RateLimited);
      const [delay] = h.browser.timers.pending();
      assert.ok(delay !== undefined);
      delays.push(delay);
      h.browser.timers.advance(delay);
    }
    assert.equal(h.transport.usingHttp, false);
    assert.equal(FakeWebSocket.all.length, 7);
    for (const d of delays) assert.ok(d >= 5000 && d <= 125_000, String(d));
    assert.ok((delays[5] ?? 0) > (delays[0] ?? 0), "the wait grows");
  });

  test("1013 waits at least 1 s, growing across welcomes until a batch is acked", async () => {
    h.queue.push(batch(0));
    h.transport.start();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      (await welcome(-1)).drop(CloseCode.TryAgainLater);
      delays.push(h.browser.timers.runNext());
    }
    assert.deepEqual(delays, [1000, 1998, 3996]);
    const ws = await welcome(-1);
    ws.receive({ t: "ack", seq: 0 });
    ws.drop(CloseCode.TryAgainLater);
    assert.deepEqual(h.browser.timers.pending(), [1000]);
    assert.deepEqual(h.refused, []);
  });

  test("three opens that fail switch to POST /ingest/batch; the server's own 4xxx answers do not count", async () => {
    h.queue.push(batch(0));
    h.transport.start();
    for (let i = 0; i < 3; i++) {
      socket().drop(CloseCode.Timeout);
      h.browser.timers.runNext();
    }
    assert.equal(h.transport.usingHttp, false);
    socket().drop(CloseCode.Abnormal);
    h.browser.timers.runNext();
    socket().drop(CloseCode.Abnormal);
    h.browser.timers.runNext();
    assert.equal(h.transport.usingHttp, false);
    h.browser.fetch.answer(200, { acked: 0, config: CONFIG });
    socket().drop(CloseCode.Abnormal);
    assert.equal(h.transport.usingHttp, true);
    h.browser.timers.advance(0);
    await settle();
    const [req] = h.browser.fetch.requests;
    assert.ok(req);
    assert.equal(req.url, "https://replay.example/ingest/batch");
    assert.equal(req.init.method, "POST");
    assert.equal((req.body.hello as Record<string, unknown>).t, undefined);
    assert.equal((req.body.hello as Record<string, unknown>).sid, "sid-1");
    assert.deepEqual((req.body.batches as Array<{ seq: number }>).map((b) => b.seq), [0]);
    assert.deepEqual(queued(), []);
    assert.equal(h.configs.length, 1);
  });

  test("no welcome within 10 s counts as a failed open: the socket is closed and retried", () => {
    h.transport.start();
    const ws = socket();
    ws.open();
    h.browser.timers.advance(9999);
    assert.equal(ws.closedWith, null);
    h.browser.timers.advance(1);
    assert.equal(ws.closedWith, CloseCode.Normal);
    h.browser.timers.advance(500);
    assert.equal(FakeWebSocket.all.length, 2);
  });

  test("retryNow reconnects at once instead of waiting for the backoff", () => {
    h.transport.start();
    socket().drop(CloseCode.RateLimited);
    assert.equal(FakeWebSocket.all.length, 1);
    h.transport.retryNow();
    assert.equal(FakeWebSocket.all.length, 2);
    assert.deepEqual(h.browser.timers.pending().filter((d) => d !== 10000), []);
  });

  test("close(bye) says bye, closes with 1000 and never reconnects", async () => {
    h.transport.start();
    const ws = await welcome(-1);
    h.transport.close(true);
    assert.deepEqual(ws.sent.map((m) => m.t), ["hello", "bye"]);
    assert.equal(ws.closedWith, CloseCode.Normal);
    h.browser.timers.advance(600_000);
    assert.equal(FakeWebSocket.all.length, 1);
  });

  test("flushSync sends the unsent batches at once as plain events (pagehide cannot wait for gzip)", async () => {
    h.transport.start();
    const ws = await welcome(-1);
    h.queue.push(batch(0, 5000));
    h.transport.flushSync();
    assert.deepEqual(sentSeqs(ws), [0]);
    assert.ok(Array.isArray(ws.batches()[0]?.events));
    h.transport.kick();
    await settle(100);
    assert.deepEqual(sentSeqs(ws), [0], "not sent twice");
  });

  test("beacon sends the oldest unacked batches to /ingest/batch", async () => {
    h.queue.push(batch(0));
    h.queue.push(batch(1));
    h.transport.beacon();
    const [sent] = h.browser.beacons;
    assert.ok(sent);
    assert.equal(sent.url, "https://replay.example/ingest/batch");
    const body = JSON.parse(await sent.body.text()) as { hello: { site: string }; batches: Array<{ seq: number }> };
    assert.equal(body.hello.site, "pk_test");
    assert.deepEqual(body.batches.map((b) => b.seq), [0, 1]);
  });
});

describe("HTTP fallback", () => {
  async function post(): Promise<Record<string, unknown>> {
    const before = h.browser.fetch.requests.length;
    h.browser.timers.advance(200_000);
    await settle();
    const req = h.browser.fetch.requests[before];
    assert.ok(req, "no request was made");
    return req.body;
  }

  const seqs = (body: Record<string, unknown>): number[] => (body.batches as Array<{ seq: number }>).map((b) => b.seq);

  test("posts up to 50 batches at a time; an answer drops what is acked and the next post follows", async () => {
    for (let s = 0; s < 60; s++) h.queue.push(batch(s));
    h.transport.useHttp();
    h.browser.fetch.answer(200, { acked: 49, config: CONFIG });
    assert.deepEqual(seqs(await post()), [...Array(50).keys()]);
    assert.deepEqual(queued(), [...Array(10).keys()].map((i) => i + 50));
    assert.equal(h.configs.length, 1);
    h.browser.fetch.answer(200, { acked: 59, config: null });
    assert.deepEqual(seqs(await post()), [...Array(10).keys()].map((i) => i + 50));
    assert.deepEqual(queued(), []);
  });

  test("with nothing to send but no config yet, a hello-only post asks for it; no config means go on with defaults", async () => {
    h.transport.useHttp();
    h.browser.fetch.answer(200, { acked: -1, config: null });
    assert.deepEqual(seqs(await post()), []);
    assert.equal(h.noConfig, 1);
    h.needConfig = false;
    h.transport.kick();
    h.browser.timers.advance(200_000);
    await settle();
    assert.equal(h.browser.fetch.requests.length, 1, "nothing to send, nothing asked");
  });

  test("401 and 403 refuse the page; 413 session_too_large refuses and clears", async () => {
    h.queue.push(batch(0));
    h.transport.useHttp();
    h.browser.fetch.answer(401, { error: { code: "unknown_site", message: "" } });
    await post();
    assert.deepEqual(h.refused, [["unknown_site", false]]);

    h = setup();
    h.queue.push(batch(0));
    h.transport.useHttp();
    h.browser.fetch.answer(413, { error: { code: "session_too_large", message: "" } });
    await post();
    assert.deepEqual(h.refused, [["session_too_large", true]]);
  });

  test("a 400 for several batches retries them one by one; a 400 for one batch drops it", async () => {
    for (const s of [0, 1, 2]) h.queue.push(batch(s));
    h.transport.useHttp();
    h.browser.fetch.answer(400, { error: { code: "invalid_event", message: "" } });
    assert.deepEqual(seqs(await post()), [0, 1, 2]);
    h.browser.fetch.answer(400, { error: { code: "invalid_event", message: "" } });
    assert.deepEqual(seqs(await post()), [0]);
    assert.deepEqual(queued(), [1, 2]);
    h.browser.fetch.answer(200, { acked: 1, config: CONFIG });
    assert.deepEqual(seqs(await post()), [1]);
    h.browser.fetch.answer(200, { acked: 2, config: CONFIG });
    assert.deepEqual(seqs(await post()), [2], "back to several at a time after a success");
  });

  test("more than five bad requests in a row refuse the page", async () => {
    for (let s = 0; s < 10; s++) h.queue.push(batch(s));
    h.transport.useHttp();
    for (let i = 0; i < 6; i++) {
      h.browser.fetch.answer(400, { error: { code: "bad_json", message: "" } });
      await post();
    }
    assert.deepEqual(h.refused, [["bad requests", false]]);
  });

  test("429 waits at least 5 s; a network failure retries with the short backoff and keeps the queue", async () => {
    h.queue.push(batch(0));
    h.transport.useHttp();
    h.browser.fetch.answer(429, { error: { code: "rate_limited", message: "" } });
    await post();
    const [slow] = h.browser.timers.pending();
    assert.ok(slow !== undefined && slow >= 5000, String(slow));
    h.browser.fetch.failNetwork();
    await post();
    const [fast] = h.browser.timers.pending();
    assert.ok(fast !== undefined && fast < 5000, String(fast));
    h.browser.fetch.answer(200, { acked: 0, config: CONFIG });
    await post();
    assert.deepEqual(queued(), []);
    assert.deepEqual(h.refused, []);
  });
});
