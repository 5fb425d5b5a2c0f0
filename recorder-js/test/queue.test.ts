// The queue of unacked batches: order, drops, bounds and its copy in sessionStorage.
import { EventType } from "@rrweb/types";
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import type { RecEvent } from "../src/config";
import { BatchQueue, makeBatch, PERSIST_MAX, utf8Length, type QueuedBatch } from "../src/queue";

/** A Storage-like sessionStorage, installed before storage.ts first looks for one. */
const store = new Map<string, string>();
Object.defineProperty(globalThis, "window", {
  configurable: true,
  value: {
    sessionStorage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    },
  },
});

function batch(seq: number, payload = "p"): QueuedBatch {
  const events: RecEvent[] = [{ type: EventType.Custom, data: { tag: "t", payload }, timestamp: seq }];
  return makeBatch(seq, 0, events);
}

const seqs = (q: BatchQueue): number[] => q.list().map((b) => b.seq);

beforeEach(() => store.clear());

test("utf8Length counts UTF-8 bytes: ASCII 1, Latin/Greek 2, BMP 3, astral (surrogate pair) 4", () => {
  assert.equal(utf8Length("abc"), 3);
  assert.equal(utf8Length("é"), 2);
  assert.equal(utf8Length("€"), 3);
  assert.equal(utf8Length("😀"), 4);
  assert.equal(utf8Length("a😀é€"), 1 + 4 + 2 + 3);
});

test("makeBatch keeps the events' JSON and its byte size", () => {
  const b = batch(3, "€");
  assert.equal(b.json, JSON.stringify(b.events));
  assert.equal(b.bytes, Buffer.byteLength(b.json));
});

test("batches stay in seq order; a seq already held is not added twice", () => {
  const q = new BatchQueue("s");
  q.push(batch(2));
  q.push(batch(5));
  q.push(batch(3));
  q.push(batch(3));
  assert.deepEqual(seqs(q), [2, 3, 5]);
  assert.equal(q.first()?.seq, 2);
});

test("dropUpTo is a cumulative ack, dropSeq removes one refused batch, dropFirst the oldest", () => {
  const q = new BatchQueue("s");
  for (const s of [0, 1, 2, 3, 4]) q.push(batch(s));
  q.dropUpTo(1);
  assert.deepEqual(seqs(q), [2, 3, 4]);
  q.dropSeq(3);
  q.dropSeq(99);
  assert.deepEqual(seqs(q), [2, 4]);
  assert.equal(q.dropFirst()?.seq, 2);
  assert.deepEqual(seqs(q), [4]);
});

test("in memory, the oldest batches go first past 16 MB", () => {
  const q = new BatchQueue("s");
  const mb5 = "x".repeat(5 * 1024 * 1024);
  for (const s of [0, 1, 2, 3]) q.push(batch(s, mb5));
  assert.deepEqual(seqs(q), [1, 2, 3]);
});

test("persist / load: the next page of the session gets the batches back; another session gets none", () => {
  const q = new BatchQueue("sid-a");
  q.push(batch(0, "é"));
  q.push(batch(1));
  q.persist();
  const loaded = BatchQueue.load("sid-a");
  assert.deepEqual(seqs(loaded), [0, 1]);
  assert.deepEqual(loaded.first()?.events, q.first()?.events);
  assert.equal(loaded.first()?.bytes, q.first()?.bytes);
  assert.deepEqual(seqs(BatchQueue.load("sid-b")), []);
});

test("persist keeps the newest batches that fit in 2 MB", () => {
  const q = new BatchQueue("s");
  const big = "x".repeat(Math.floor(PERSIST_MAX / 2.5));
  for (const s of [0, 1, 2]) q.push(batch(s, big));
  q.persist();
  assert.ok((store.get("_rs_q") ?? "").length <= PERSIST_MAX);
  assert.deepEqual(seqs(BatchQueue.load("s")), [1, 2]);
});

test("an empty queue removes its copy; clear() forgets it; garbage in storage loads as empty", () => {
  const q = new BatchQueue("s");
  q.push(batch(0));
  q.persist();
  assert.ok(store.has("_rs_q"));
  q.dropFirst();
  q.persist();
  assert.equal(store.has("_rs_q"), false);
  q.push(batch(1));
  q.persist();
  q.clear();
  assert.equal(store.has("_rs_q"), false);
  store.set("_rs_q", "{not json");
  assert.deepEqual(seqs(BatchQueue.load("s")), []);
  store.set("_rs_q", JSON.stringify({ sid: "s", batches: [{ seq: "0" }, { seq: 4, page: 0, events: [] }] }));
  assert.deepEqual(seqs(BatchQueue.load("s")), [4]);
});
