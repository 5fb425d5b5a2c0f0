// Typed access to the JSON API v1 (DESIGN.md section 7). Responses are
// checked at this boundary: the rest of the player only sees these types.
import { decode as decodeMsgpack } from "@msgpack/msgpack";
import type { eventWithTime } from "@rrweb/types";

export interface PageView {
  page: number;
  url: string;
  title: string;
  started_at_ms: number;
  ended_at_ms: number | null;
}

export interface SessionMeta {
  id: string;
  site_id: number;
  visitor_id: string;
  started_at: string;
  started_at_ms: number;
  last_event_ms: number;
  duration_ms: number;
  live: boolean;
  page_count: number;
  browser: string;
  os: string;
  device: string;
  user_agent: string;
  viewport: [number, number] | null;
  screen: [number, number] | null;
  lang: string;
  tz: string;
  referrer: string;
  entry_url: string;
  /** Two-letter country code, when the server knows it. */
  country: string;
  pages: PageView[];
  chunks: { count: number; raw_bytes: number; stored_bytes: number; items: ChunkItem[] };
}

/** One stored chunk's place in the session (event clock), for planning downloads. */
export interface ChunkItem {
  idx: number;
  page: number;
  first_ts: number;
  last_ts: number;
  events: number;
  raw_bytes: number;
  has_full_snapshot: boolean;
}

/** A chunk the server could not read (blob missing or corrupt). */
export interface MissingChunk {
  chunk: number;
  page: number;
  first_ts: number;
  last_ts: number;
  has_full_snapshot: boolean;
  reason: string;
}

export interface EventsPage {
  events: eventWithTime[];
  missing: MissingChunk[];
}

/** An error to show to the user: from the API's error body, the network, or a malformed response. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export type Progress = (loadedBytes: number, totalBytes: number | null) => void;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(what: string): ApiError {
  return new ApiError(0, "bad_response", `The server sent an unexpected response (${what}).`);
}

function str(o: Obj, key: string, fallback?: string): string {
  const v = o[key];
  if (typeof v === "string") return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw bad(`${key} is not a string`);
}

function num(o: Obj, key: string, fallback?: number): number {
  const v = o[key];
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw bad(`${key} is not a number`);
}

function pair(o: Obj, key: string): [number, number] | null {
  const v = o[key];
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number") {
    return [v[0], v[1]];
  }
  return null;
}

function parseChunkItem(v: unknown, index: number): ChunkItem {
  if (!isObj(v)) throw bad(`chunks.items[${index}]`);
  return {
    idx: num(v, "idx"),
    page: num(v, "page", 0),
    first_ts: num(v, "first_ts"),
    last_ts: num(v, "last_ts"),
    events: num(v, "events", 0),
    raw_bytes: num(v, "raw_bytes", 0),
    has_full_snapshot: v["has_full_snapshot"] === true,
  };
}

export function parseMissing(v: unknown): MissingChunk[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((m) => ({
    chunk: num(m, "chunk", -1),
    page: num(m, "page", 0),
    first_ts: num(m, "first_ts", 0),
    last_ts: num(m, "last_ts", 0),
    has_full_snapshot: m["has_full_snapshot"] === true,
    reason: str(m, "reason", "unreadable"),
  }));
}

function parsePage(v: unknown, index: number): PageView {
  if (!isObj(v)) throw bad(`pages[${index}]`);
  const ended = v["ended_at_ms"];
  return {
    page: num(v, "page", index),
    url: str(v, "url", ""),
    title: str(v, "title", ""),
    started_at_ms: num(v, "started_at_ms"),
    ended_at_ms: typeof ended === "number" ? ended : null,
  };
}

export function parseSessionMeta(v: unknown): SessionMeta {
  if (!isObj(v)) throw bad("session is not an object");
  const pagesRaw = v["pages"];
  const chunksRaw = isObj(v["chunks"]) ? v["chunks"] : {};
  return {
    id: str(v, "id"),
    site_id: num(v, "site_id"),
    visitor_id: str(v, "visitor_id", ""),
    started_at: str(v, "started_at", ""),
    started_at_ms: num(v, "started_at_ms"),
    last_event_ms: num(v, "last_event_ms", 0),
    duration_ms: num(v, "duration_ms", 0),
    live: v["live"] === true,
    page_count: num(v, "page_count", 0),
    browser: str(v, "browser", ""),
    os: str(v, "os", ""),
    device: str(v, "device", ""),
    user_agent: str(v, "user_agent", ""),
    viewport: pair(v, "viewport"),
    screen: pair(v, "screen"),
    lang: str(v, "lang", ""),
    tz: str(v, "tz", ""),
    referrer: str(v, "referrer", ""),
    entry_url: str(v, "entry_url", ""),
    country: typeof v["country"] === "string" ? v["country"] : "",
    pages: Array.isArray(pagesRaw) ? pagesRaw.map(parsePage) : [],
    chunks: {
      count: num(chunksRaw, "count", 0),
      raw_bytes: num(chunksRaw, "raw_bytes", 0),
      stored_bytes: num(chunksRaw, "stored_bytes", 0),
      items: Array.isArray(chunksRaw["items"]) ? chunksRaw["items"].map(parseChunkItem) : [],
    },
  };
}

/** The shape rrweb needs to order and dispatch an event; the payload is rrweb's business. */
function isEvent(v: unknown): v is eventWithTime {
  return isObj(v) && typeof v["type"] === "number" && typeof v["timestamp"] === "number";
}

export function parseEvents(v: unknown): eventWithTime[] {
  if (!isObj(v) || !Array.isArray(v["events"])) throw bad("no events list");
  const events: eventWithTime[] = [];
  for (const e of v["events"]) {
    // A malformed event is dropped rather than failing the whole replay.
    if (isEvent(e)) events.push(e);
  }
  return events;
}

export function parseEventsPage(v: unknown): EventsPage {
  return { events: parseEvents(v), missing: isObj(v) ? parseMissing(v["missing"]) : [] };
}

async function readBody(res: Response, onProgress?: Progress): Promise<Uint8Array> {
  const lengthHeader = res.headers.get("Content-Length");
  // With Content-Encoding the header counts compressed bytes; the stream yields decoded ones.
  const total = lengthHeader && !res.headers.get("Content-Encoding") ? Number(lengthHeader) : null;
  if (!res.body || !onProgress) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.byteLength;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function decodeBody(res: Response, bytes: Uint8Array): unknown {
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("msgpack")) return decodeMsgpack(bytes);
  return JSON.parse(new TextDecoder().decode(bytes));
}

function errorFromBody(status: number, body: unknown): ApiError {
  const err = isObj(body) && isObj(body["error"]) ? body["error"] : null;
  const message = err && typeof err["message"] === "string" ? err["message"] : "";
  const code = err && typeof err["code"] === "string" ? err["code"] : "http_" + String(status);
  if (message) return new ApiError(status, code, message);
  if (status === 401) return new ApiError(status, code, "Your login has expired. Reload the page to sign in again.");
  if (status === 404) return new ApiError(status, code, "This session does not exist or was deleted.");
  return new ApiError(status, code, `The server answered with status ${status}.`);
}

async function getData(url: string, accept: string, onProgress?: Progress): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { credentials: "same-origin", headers: { Accept: accept } });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check your connection and reload.");
  }
  let body: unknown = null;
  try {
    body = decodeBody(res, await readBody(res, res.ok ? onProgress : undefined));
  } catch {
    if (res.ok) throw bad("unreadable body");
  }
  if (!res.ok) throw errorFromBody(res.status, body);
  return body;
}

/** The raw bytes of an immutable resource (a stored chunk, a dictionary); the browser's cache keeps them. */
async function getBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check your connection and reload.");
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch {
    throw new ApiError(0, "network", "The download was interrupted. Check your connection and reload.");
  }
  if (res.ok) return bytes;
  let body: unknown = null;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    // not a JSON error body: the status alone
  }
  throw errorFromBody(res.status, body);
}

export class Api {
  private readonly base: string;

  constructor(base: string) {
    this.base = base.replace(/\/+$/, "");
  }

  private sessionUrl(id: string): string {
    return `${this.base}/sessions/${encodeURIComponent(id)}`;
  }

  async session(id: string): Promise<SessionMeta> {
    return parseSessionMeta(await getData(this.sessionUrl(id), "application/json"));
  }

  /** Events with `fromMs <= timestamp <= toMs` (either bound optional), every page, in order. */
  async events(id: string, fromMs: number | null, toMs: number | null, onProgress?: Progress): Promise<EventsPage> {
    const accept = "application/msgpack, application/json;q=0.9";
    const query = new URLSearchParams();
    if (fromMs !== null) query.set("from_ms", String(fromMs));
    if (toMs !== null) query.set("to_ms", String(toMs));
    const qs = query.toString();
    const url = `${this.sessionUrl(id)}/events${qs ? "?" + qs : ""}`;
    return parseEventsPage(await getData(url, accept, onProgress));
  }

  /** A stored chunk's blob, as stored (docs/protocol.md, "Stored chunks"). */
  chunk(id: string, idx: number): Promise<Uint8Array> {
    return getBytes(`${this.sessionUrl(id)}/chunks/${idx}`);
  }

  /** A site's zstd dictionary, named by a chunk's header. */
  dictionary(siteId: number, dictionaryId: number): Promise<Uint8Array> {
    return getBytes(`${this.base}/sites/${siteId}/dictionaries/${dictionaryId}`);
  }

  /** ws(s):// URL of the session's live view. */
  liveUrl(id: string): string {
    const url = new URL(`${this.sessionUrl(id)}/live`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }
}
