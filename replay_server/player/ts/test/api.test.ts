// The API client over a fake fetch (the browser's API), and the checks of what the server answers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { encode } from "@msgpack/msgpack";
import { Api, ApiError, parseEventsPage, parseMissing, parseSessionMeta, type ChunkItem } from "../api";
import { Loader, planWindows } from "../loader";
import { message, requestedTime } from "../util";
import { meta, snapshot } from "./events";

type Answer = { status: number; body: unknown; type?: string } | "network";
let answers: Answer[] = [];
let urls: string[] = [];

function define(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}

beforeEach(() => {
  answers = [];
  urls = [];
  define("fetch", async (url: string): Promise<Response> => {
    urls.push(url);
    const a = answers.shift();
    if (!a) throw new Error("no answer for " + url);
    if (a === "network") throw new TypeError("Failed to fetch");
    const type = a.type ?? "application/json";
    const body = type.includes("msgpack") ? encode(a.body) : JSON.stringify(a.body);
    return new Response(body, { status: a.status, headers: { "Content-Type": type } });
  });
});

afterEach(() => define("window", undefined));

const SESSION = { id: "s1", site_id: 7, started_at_ms: 1000, chunks: { count: 1, items: [{ idx: 0, first_ts: 1, last_ts: 2 }] } };

test("session metadata: missing optional fields take defaults, a missing id is a bad response", () => {
  const m = parseSessionMeta(SESSION);
  assert.equal(m.visitor_id, "");
  assert.equal(m.live, false);
  assert.equal(m.viewport, null);
  assert.deepEqual(m.pages, []);
  assert.deepEqual(m.chunks.items, [{ idx: 0, page: 0, first_ts: 1, last_ts: 2, events: 0, raw_bytes: 0, has_full_snapshot: false }]);
  assert.throws(() => parseSessionMeta({ ...SESSION, id: 5 }), (e: unknown) => e instanceof ApiError && e.code === "bad_response");
  assert.throws(() => parseSessionMeta([]), ApiError);
});

test("an events page drops malformed events and reads its missing chunks", () => {
  const page = parseEventsPage({ events: [meta(1), { type: "2", timestamp: 3 }, null, snapshot(2)], missing: [{ chunk: 4, first_ts: 9 }, "x"] });
  assert.deepEqual(page.events.map((e) => e.timestamp), [1, 2]);
  assert.deepEqual(page.missing, [{ chunk: 4, page: 0, first_ts: 9, last_ts: 0, has_full_snapshot: false, reason: "unreadable" }]);
  assert.deepEqual(parseMissing("nope"), []);
  assert.throws(() => parseEventsPage({}), ApiError);
});

test("errors shown to the user: the server's message, else one per status; the network", async () => {
  const api = new Api("/api/v1/");
  answers.push({ status: 403, body: { error: { code: "forbidden", message: "Not your organisation." } } });
  await assert.rejects(api.session("a b"), (e: unknown) => e instanceof ApiError && e.status === 403 && e.code === "forbidden" && e.message === "Not your organisation.");
  assert.equal(urls[0], "/api/v1/sessions/a%20b");
  answers.push({ status: 404, body: null });
  await assert.rejects(api.session("x"), { code: "http_404", message: "This session does not exist or was deleted." });
  answers.push({ status: 401, body: {} });
  await assert.rejects(api.session("x"), /login has expired/);
  answers.push("network");
  await assert.rejects(api.session("x"), { code: "network", status: 0 });
  answers.push({ status: 200, body: { events: [meta(5)], missing: [] }, type: "application/msgpack" });
  const page = await api.events("x", 10, null);
  assert.deepEqual(page.events.map((e) => e.timestamp), [5]);
  assert.equal(urls[4], "/api/v1/sessions/x/events?from_ms=10");
});

function chunk(idx: number, first: number, last: number, raw: number): ChunkItem {
  return { idx, page: 0, first_ts: first, last_ts: last, events: 1, raw_bytes: raw, has_full_snapshot: idx === 0 };
}

test("download windows: the first chunk alone, then groups doubling from 256 KB; disjoint, covering all time", () => {
  const kb = 1024;
  const items = [chunk(2, 300, 399, 200 * kb), chunk(0, 100, 199, 500 * kb), chunk(1, 200, 299, 100 * kb), chunk(3, 400, 499, 300 * kb), chunk(4, 500, 599, 10 * kb)];
  assert.deepEqual(planWindows(items), [
    { from: null, to: 199 },
    { from: 200, to: 399 },
    { from: 400, to: 599 },
    { from: 600, to: null },
  ]);
  assert.deepEqual(planWindows([]), [{ from: null, to: null }]);
});

test("the loader fetches the windows in order and hands each over; cancel stops it", async () => {
  const windows = planWindows([chunk(0, 100, 199, 1), chunk(1, 200, 299, 1)]);
  for (let i = 0; i < windows.length; i++) answers.push({ status: 200, body: { events: [meta(i)], missing: [] } });
  const seen: Array<[number, number, number]> = [];
  await new Loader(new Api("/api"), "s", windows).run((page, i, n) => seen.push([page.events[0]?.timestamp ?? -1, i, n]));
  assert.deepEqual(seen, [
    [0, 0, 3],
    [1, 1, 3],
    [2, 2, 3],
  ]);
  assert.deepEqual(urls, ["/api/sessions/s/events?to_ms=199", "/api/sessions/s/events?from_ms=200&to_ms=299", "/api/sessions/s/events?from_ms=300"]);

  urls = [];
  for (let i = 0; i < windows.length; i++) answers.push({ status: 200, body: { events: [], missing: [] } });
  const loader = new Loader(new Api("/api"), "s", windows);
  let calls = 0;
  await loader.run(() => {
    calls++;
    loader.cancel();
  });
  assert.equal(calls, 1);
});

test("a failed window rejects the run with its error", async () => {
  const windows = planWindows([chunk(0, 100, 199, 1)]);
  answers.push({ status: 200, body: { events: [], missing: [] } }, { status: 500, body: { error: { code: "storage_error", message: "Storage failed." } } });
  await assert.rejects(new Loader(new Api("/api"), "s", windows).run(() => undefined), { code: "storage_error" });
});

test("messages for the user; ?t= in seconds; the live URL follows the page's scheme", () => {
  assert.equal(message(new ApiError(0, "network", "Could not reach the server.")), "Could not reach the server.");
  assert.equal(message(new Error("boom")), "Unexpected error: boom");
  assert.equal(message("?"), "Unexpected error.");
  define("window", { location: { search: "?t=12.5", href: "https://dash.example/sessions/s1?t=12.5" } });
  assert.equal(requestedTime(), 12_500);
  assert.equal(new Api("/api/v1").liveUrl("s 1"), "wss://dash.example/api/v1/sessions/s%201/live");
  define("window", { location: { search: "?t=abc", href: "http://localhost:8080/sessions/s1" } });
  assert.equal(requestedTime(), null);
  assert.equal(new Api("/api/v1").liveUrl("s1"), "ws://localhost:8080/api/v1/sessions/s1/live");
  define("window", { location: { search: "", href: "http://localhost/" } });
  assert.equal(requestedTime(), null);
});
