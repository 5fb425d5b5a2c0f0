// msgpack frames both ways and the validation of what the server sends.
import { EventType } from "@rrweb/types";
import assert from "node:assert/strict";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { decode, encode } from "@msgpack/msgpack";
import { decodeMessage, encodeBatch, encodeBatchPlain } from "../src/codec";
import { DEFAULT_CONFIG, parseConfig, parseHttpResponse, recordingDiffers, type RecEvent } from "../src/config";
import { makeBatch } from "../src/queue";

function events(payloadChars: number): RecEvent[] {
  return [{ type: EventType.Custom, data: { tag: "t", payload: "z".repeat(payloadChars) }, timestamp: 1 }];
}

function arrayBuffer(msg: unknown): ArrayBuffer {
  const b = encode(msg);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

test("a small batch is sent as plain events, a big one as gzip(msgpack(events)), computed once", async () => {
  const small = makeBatch(1, 0, events(10));
  assert.deepEqual(decode(await encodeBatch(small)), { t: "batch", seq: 1, page: 0, events: small.events });
  const big = makeBatch(2, 3, events(4000));
  const frame = decode(await encodeBatch(big)) as { t: string; seq: number; page: number; gz: Uint8Array; events?: unknown };
  assert.equal(frame.seq, 2);
  assert.equal(frame.page, 3);
  assert.equal(frame.events, undefined);
  assert.deepEqual(decode(gunzipSync(frame.gz)), big.events);
  assert.ok(big.gz instanceof Uint8Array);
  assert.deepEqual(decode(encodeBatchPlain(big)), { t: "batch", seq: 2, page: 3, events: big.events });
});

test("server messages are validated: welcome, ack, error; anything else is ignored", () => {
  const welcome = decodeMessage(arrayBuffer({ t: "welcome", sid: "s", acked: 4, config: { batchMs: 10, maskAllText: true } }));
  assert.deepEqual(welcome, { t: "welcome", sid: "s", acked: 4, config: { ...DEFAULT_CONFIG, batchMs: 200, maskAllText: true } });
  assert.deepEqual(decodeMessage(arrayBuffer({ t: "ack", seq: 9 })), { t: "ack", seq: 9 });
  assert.deepEqual(decodeMessage(arrayBuffer({ t: "error", code: "rate_limited", message: "m", seq: 3 })), {
    t: "error",
    code: "rate_limited",
    message: "m",
    seq: 3,
  });
  assert.equal(decodeMessage(arrayBuffer({ t: "ack" })), null);
  assert.equal(decodeMessage(arrayBuffer({ t: "welcome", acked: "4" })), null);
  assert.equal(decodeMessage(arrayBuffer({ t: "other" })), null);
  assert.equal(decodeMessage("text frame"), null);
});

test("a config from the server: wrong types take the privacy defaults, numbers are clamped", () => {
  assert.deepEqual(parseConfig(null), DEFAULT_CONFIG);
  const c = parseConfig({ record: "yes", maskAllInputs: false, blockSelector: 5, batchMs: 10 ** 9, mousemoveSampleMs: -3 });
  assert.equal(c.record, true);
  assert.equal(c.maskAllInputs, false);
  assert.equal(c.blockSelector, "");
  assert.equal(c.batchMs, 60000);
  assert.equal(c.mousemoveSampleMs, 0);
});

test("the HTTP answer needs acked; its config is optional", () => {
  assert.deepEqual(parseHttpResponse({ acked: 3 }), { acked: 3, config: null });
  assert.equal(parseHttpResponse({ config: {} }), null);
  assert.equal(parseHttpResponse({ acked: 1, config: {} })?.config?.batchMs, DEFAULT_CONFIG.batchMs);
});

test("a new recording is needed when masking, blocking or sampling change, not for batchMs", () => {
  assert.equal(recordingDiffers(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, batchMs: 5000, record: false }), false);
  for (const change of [{ maskAllInputs: false }, { maskAllText: true }, { blockSelector: ".x" }, { maskTextSelector: "p" }, { mousemoveSampleMs: 0 }]) {
    assert.equal(recordingDiffers(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, ...change }), true, JSON.stringify(change));
  }
});
