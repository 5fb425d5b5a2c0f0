// Stored chunks in the player: the headers (ours and zstd's), decoding with the real zstd
// library the browser uses (its Node build: same libzstd WebAssembly), the dictionary fetched
// once per id, what is refused, the download plan for a target time, the loader's order and
// missing chunks, and merging earlier events into a sorted list.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import { before, beforeEach, test } from "node:test";
import { encode } from "@msgpack/msgpack";
import type { eventWithTime } from "@rrweb/types";
import { Api, type ChunkItem } from "../api";
import { CorruptChunk, MAX_CHUNK_CONTENT_BYTES, frameContentSize, parseChunkHeader } from "../chunkformat";
import { ChunkDecoder, type Zstd } from "../chunkdecoder";
import { insertSorted } from "../eventorder";
import { ChunkLoader, planChunks, type LoadedPart } from "../loader";
import { meta, snapshot } from "./events";

interface ZstdWasm {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
  createCCtx(): number;
  compressUsingDict(cctx: number, buf: Uint8Array, dict: Uint8Array, level?: number): Uint8Array;
  decompress(buf: Uint8Array): Uint8Array;
  createDCtx(): number;
  decompressUsingDict(dctx: number, buf: Uint8Array, dict: Uint8Array): Uint8Array;
}

// Loaded from node_modules at run time (not bundled: its Node entry reads the .wasm beside itself).
const zstdWasm = createRequire(join(process.cwd(), "package.json"))("@bokuweb/zstd-wasm") as ZstdWasm;
let zstd: Zstd;

before(async () => {
  await zstdWasm.init();
  const context = zstdWasm.createDCtx();
  zstd = {
    decompress: (frame, dictionary) =>
      dictionary ? zstdWasm.decompressUsingDict(context, frame, dictionary) : zstdWasm.decompress(frame),
  };
});

const EVENTS: eventWithTime[] = [meta(1000), snapshot(1001), { type: 3, timestamp: 1500, data: { source: 1, positions: [] } } as eventWithTime];
// A raw-content dictionary (zstd accepts any bytes as one): what it shares with the events.
const DICTIONARY = encode([meta(0), snapshot(0)]);

function blob(version: number, frame: Uint8Array, dictionaryId = 0): Uint8Array {
  const header = version === 1 ? [0x52, 0x53, 0x43, 0x4b, 1] : [0x52, 0x53, 0x43, 0x4b, 2, ...u32(dictionaryId)];
  const out = new Uint8Array(header.length + frame.length);
  out.set(header);
  out.set(frame, header.length);
  return out;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

test("chunk headers: v1, v2 with its dictionary id; bad magic, unknown version, cut short", () => {
  const frame = new Uint8Array([9, 9, 9]);
  assert.deepEqual(parseChunkHeader(blob(1, frame)), { version: 1, dictionaryId: 0, frame });
  const v2 = parseChunkHeader(blob(2, frame, 0x01020304));
  assert.equal(v2.dictionaryId, 0x01020304);
  assert.deepEqual([...v2.frame], [9, 9, 9]);
  assert.equal(parseChunkHeader(blob(2, frame, 0xffffffff)).dictionaryId, 0xffffffff);
  assert.throws(() => parseChunkHeader(new TextEncoder().encode("RSCX\x01abc")), /bad magic/);
  assert.throws(() => parseChunkHeader(new Uint8Array([0x52, 0x53, 0x43])), CorruptChunk);
  assert.throws(() => parseChunkHeader(new Uint8Array([0x52, 0x53, 0x43, 0x4b, 3, 0, 0, 0, 0])), /unknown chunk format version 3/);
  assert.throws(() => parseChunkHeader(new Uint8Array([0x52, 0x53, 0x43, 0x4b, 2, 0, 0])), /cut short/);
});

test("zstd frame headers: the declared size of real frames; none, too big or not zstd is refused", () => {
  for (const size of [10, 300, 70_000, 1_000_000]) {
    const raw = new Uint8Array(size).map((_, i) => i % 251);
    assert.equal(frameContentSize(zstdWasm.compress(raw, 3)), size);
  }
  // Frame header descriptor 0 (no size field, not single-segment), then a window descriptor.
  assert.throws(() => frameContentSize(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0, 0])), /does not declare its size/);
  // An 8-byte size field claiming 2^40 bytes.
  const huge = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x50, 0, 0, 0, 0, 0, 1, 0, 0]);
  assert.throws(() => frameContentSize(huge), (e: unknown) => e instanceof CorruptChunk && e.message.includes(String(2 ** 40)));
  assert.ok(MAX_CHUNK_CONTENT_BYTES < 2 ** 40);
  assert.throws(() => frameContentSize(new Uint8Array([1, 2, 3, 4, 5, 6, 7])), /not a zstd frame/);
  assert.throws(() => frameContentSize(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x08, 0x50])), /reserved bit/);
});

test("decoding: v1 and v2 chunks give their events; the dictionary is fetched once per id", async () => {
  const fetched: number[] = [];
  const decoder = new ChunkDecoder(zstd, async (id) => {
    fetched.push(id);
    return DICTIONARY;
  });
  const raw = encode(EVENTS);
  assert.deepEqual(await decoder.decode(blob(1, zstdWasm.compress(raw, 3))), EVENTS);
  assert.deepEqual(await decoder.decode(blob(2, zstdWasm.compress(raw, 3), 0)), EVENTS);
  assert.deepEqual(fetched, []);
  const withDict = blob(2, zstdWasm.compressUsingDict(zstdWasm.createCCtx(), raw, DICTIONARY, 9), 7);
  const [a, b] = await Promise.all([decoder.decode(withDict), decoder.decode(withDict)]);
  assert.deepEqual(a, EVENTS);
  assert.deepEqual(b, EVENTS);
  assert.deepEqual(fetched, [7]);
  // Malformed events are dropped, as the events API's parser does.
  const mixed = encode([meta(5), { type: "2", timestamp: 6 }, 7, snapshot(8)]);
  assert.deepEqual((await decoder.decode(blob(1, zstdWasm.compress(mixed, 3)))).map((e) => e.timestamp), [5, 8]);
});

test("decoding refuses: another dictionary, a damaged frame, a dictionary that cannot be fetched (retried later), not a list", async () => {
  let fail = true;
  const decoder = new ChunkDecoder(zstd, async (id) => {
    if (id === 9 && fail) throw new Error("status 404");
    return id === 8 ? encode(["something else entirely", 42, { other: true }]) : DICTIONARY;
  });
  const raw = encode(EVENTS);
  const compressed = zstdWasm.compressUsingDict(zstdWasm.createCCtx(), raw, DICTIONARY, 9);
  await assert.rejects(decoder.decode(blob(2, compressed, 8)), CorruptChunk);
  const damaged = compressed.slice();
  for (let i = Math.floor(damaged.length / 2); i < damaged.length - 4; i++) damaged[i] = 0xff;
  await assert.rejects(decoder.decode(blob(2, damaged, 7)), CorruptChunk);
  await assert.rejects(decoder.decode(blob(2, compressed, 9)), /dictionary 9 cannot be fetched: status 404/);
  fail = false;
  assert.deepEqual(await decoder.decode(blob(2, compressed, 9)), EVENTS);
  await assert.rejects(decoder.decode(blob(1, zstdWasm.compress(encode({ events: [] }), 3))), /not hold a list/);
  await assert.rejects(decoder.decode(blob(1, zstdWasm.compress(new Uint8Array([0xc1]), 3))), /cannot be decoded/);
});

function chunk(idx: number, first: number, last: number, full: boolean, page = 0): ChunkItem {
  return { idx, page, first_ts: first, last_ts: last, events: 1, raw_bytes: 1000, has_full_snapshot: full };
}

const ids = (items: ChunkItem[]): number[] => items.map((c) => c.idx);

test("plan: the start, or from the nearest full snapshot at or before the target up to it; then forward, then backfill nearest first", () => {
  // Keyframes: every chunk begins with a full snapshot. Listed out of order on purpose.
  const keyframed = [3, 0, 5, 1, 4, 2].map((i) => chunk(i, 1000 + i * 100, 1099 + i * 100, true));
  const start = planChunks(keyframed, null);
  assert.deepEqual([ids(start.first), ids(start.forward), start.backfill.map(ids)], [[0], [1, 2, 3, 4, 5], []]);
  assert.equal(start.startTs, 1000);
  assert.equal(start.tailFrom, 1600);
  const middle = planChunks(keyframed, 350); // 1350: inside chunk 3
  assert.deepEqual([ids(middle.first), ids(middle.forward), middle.backfill.map(ids)], [[3], [4, 5], [[2], [1], [0]]]);
  assert.deepEqual(ids(planChunks(keyframed, 300).first), [3]); // a chunk's first event exactly
  assert.deepEqual(ids(planChunks(keyframed, 299).first), [2]);
  assert.deepEqual(ids(planChunks(keyframed, 99_999).first), [5]); // past the end: the last chunk

  // No keyframes: two page views, their first chunks hold the full snapshots.
  const pages = [chunk(0, 0, 99, true), chunk(1, 100, 199, false), chunk(2, 200, 299, false), chunk(3, 300, 399, true, 1), chunk(4, 400, 499, false, 1), chunk(5, 500, 599, false, 1)];
  const second = planChunks(pages, 450);
  assert.deepEqual([ids(second.first), ids(second.forward), second.backfill.map(ids)], [[3, 4], [5], [[0, 1, 2]]]);
  const first = planChunks(pages, 250);
  assert.deepEqual([ids(first.first), ids(first.forward), first.backfill], [[0, 1, 2], [3, 4, 5], []]);
  // Nothing to start from before the target: from the session's first chunk.
  const none = [chunk(0, 0, 99, false), chunk(1, 100, 199, false), chunk(2, 200, 299, true)];
  assert.deepEqual(ids(planChunks(none, 150).first), [0, 1]);
  const mixed = [chunk(0, 0, 99, false), chunk(1, 100, 199, true), chunk(2, 200, 299, false), chunk(3, 300, 399, true)];
  assert.deepEqual(planChunks(mixed, 350).backfill.map(ids), [[1, 2], [0]]);

  assert.deepEqual(planChunks([], 100), { startTs: null, first: [], forward: [], backfill: [], tailFrom: null });
});

let urls: string[] = [];
let blobs: Map<string, { status: number; body: Uint8Array }>;

beforeEach(() => {
  urls = [];
  blobs = new Map();
  Object.defineProperty(globalThis, "fetch", {
    configurable: true,
    writable: true,
    value: async (url: string): Promise<Response> => {
      urls.push(url);
      if (url.includes("/events")) {
        return new Response(JSON.stringify({ events: [{ type: 3, timestamp: 9000, data: {} }], missing: [] }), { headers: { "Content-Type": "application/json" } });
      }
      const found = blobs.get(url);
      if (!found) return new Response(JSON.stringify({ error: { code: "not_found", message: "No such chunk." } }), { status: 404 });
      return new Response(found.body.slice(), { status: found.status });
    },
  });
});

test("the loader: plan order, the tail from the events API, missing and corrupt chunks reported, the rest delivered", async () => {
  const items = [chunk(0, 1000, 1999, true), chunk(1, 2000, 2999, true), chunk(2, 3000, 3999, true), chunk(3, 4000, 4999, true)];
  const part = (ts: number): Uint8Array => blob(1, zstdWasm.compress(encode([{ type: 3, timestamp: ts, data: {} }]), 3));
  blobs.set("/api/v1/sessions/s/chunks/0", { status: 200, body: part(1000) });
  blobs.set("/api/v1/sessions/s/chunks/2", { status: 200, body: part(3000) });
  blobs.set("/api/v1/sessions/s/chunks/3", { status: 200, body: new TextEncoder().encode("RSCK\x01not zstd at all") });
  const plan = planChunks(items, 1500); // 2500: chunk 1, which is gone from storage
  const decoder = new ChunkDecoder(zstd, () => Promise.reject(new Error("no dictionary here")));
  const parts: Array<[LoadedPart["kind"], number[], number[], string[], boolean]> = [];
  await new ChunkLoader(new Api("/api/v1"), "s", decoder, plan).run((p, done, count) => {
    assert.equal(count, 1 + 2 + 1 + 1);
    assert.equal(done, parts.length + 1);
    parts.push([p.kind, p.events.map((e) => e.timestamp), p.missing.map((m) => m.chunk), p.missing.map((m) => m.reason.split(":")[0] ?? ""), p.endsForward]);
  });
  assert.deepEqual(parts, [
    ["forward", [], [1], ["blob is missing from storage"], false],
    ["forward", [3000], [], [], false],
    ["forward", [], [3], ["corrupt"], false],
    ["forward", [9000], [], [], true],
    ["backfill", [1000], [], [], false],
  ]);
  assert.ok(urls.includes("/api/v1/sessions/s/events?from_ms=5000"), urls.join(" "));
  assert.equal(urls.filter((u) => u.includes("/events")).length, 1);
});

test("the loader: a long way to the target (no keyframes) comes one chunk per part; the tail ends the forward stream", async () => {
  const items = [chunk(0, 1000, 1999, true), chunk(1, 2000, 2999, false), chunk(2, 3000, 3999, false), chunk(3, 4000, 4999, false)];
  for (const c of items) blobs.set(`/api/v1/sessions/s/chunks/${c.idx}`, { status: 200, body: blob(1, zstdWasm.compress(encode([{ type: 3, timestamp: c.first_ts, data: {} }]), 3)) });
  const decoder = new ChunkDecoder(zstd, () => Promise.reject(new Error("unused")));
  const seen: Array<[number, number, boolean]> = [];
  await new ChunkLoader(new Api("/api/v1"), "s", decoder, planChunks(items, 2500)).run((p, done, count) => {
    assert.equal(count, 5);
    seen.push([done, p.events[0]?.timestamp ?? -1, p.endsForward]);
  });
  assert.deepEqual(seen, [[1, 1000, false], [2, 2000, false], [3, 3000, false], [4, 4000, false], [5, 9000, true]]);
});

test("the loader stops on errors other than a missing chunk (a login that expired)", async () => {
  blobs.set("/api/v1/sessions/s/chunks/0", { status: 401, body: new TextEncoder().encode("{}") });
  const decoder = new ChunkDecoder(zstd, () => Promise.reject(new Error("unused")));
  const loader = new ChunkLoader(new Api("/api/v1"), "s", decoder, planChunks([chunk(0, 0, 9, true)], null));
  await assert.rejects(loader.run(() => assert.fail("nothing to hand over")), /login has expired/);
});

test("earlier events merge into a sorted list in place, in one piece or interleaved", () => {
  const ev = (ts: number): eventWithTime => ({ type: 3, timestamp: ts, data: {} }) as eventWithTime;
  const list = [ev(0), ev(500), ev(600)];
  const same = list;
  insertSorted(list, [ev(100), ev(200), ev(500)]);
  assert.equal(list, same);
  assert.deepEqual(list.map((e) => e.timestamp), [0, 100, 200, 500, 500, 600]);
  insertSorted(list, [ev(50), ev(550)]); // interleaved: merged
  assert.deepEqual(list.map((e) => e.timestamp), [0, 50, 100, 200, 500, 500, 550, 600]);
  insertSorted(list, []);
  assert.equal(list.length, 8);
  const big = Array.from({ length: 25_000 }, (_, i) => ev(1 + i / 100_000));
  insertSorted(list, big);
  assert.equal(list.length, 25_008);
  assert.ok(list.every((e, i) => i === 0 || (list[i - 1]?.timestamp ?? 0) <= e.timestamp));
});
