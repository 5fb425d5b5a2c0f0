// HTTP fallback of the protocol: POST /ingest/batch with JSON (text/plain, no CORS preflight),
// by fetch (when the WebSocket cannot be used) or navigator.sendBeacon (at pagehide).

import { parseHttpResponse, type Hello, type HttpHello, type HttpIngestResponse } from "./config";
import { debug } from "./log";
import { utf8Length, type QueuedBatch } from "./queue";

/** sendBeacon and keepalive fetch refuse bodies over 64 KiB (in flight); stay below. */
export const BEACON_MAX_BYTES = 60 * 1024;
/** Upper bound of one fetch body (the server refuses frames over 4 MiB). */
export const POST_MAX_BYTES = 2 * 1024 * 1024;

export function httpHello(h: Hello): HttpHello {
  const { t: _t, ...rest } = h;
  return rest;
}

function batchJson(b: QueuedBatch): string {
  return `{"seq":${b.seq},"page":${b.page},"events":${b.json}}`;
}

/** The oldest batches (a prefix, never skipping one) whose JSON fits in `maxBytes`. */
export function oldestThatFit(batches: readonly QueuedBatch[], maxBytes: number, maxCount = Infinity): QueuedBatch[] {
  const out: QueuedBatch[] = [];
  let size = 0;
  for (const b of batches) {
    const n = b.bytes + 40;
    if (out.length >= maxCount || size + n > maxBytes) break;
    out.push(b);
    size += n;
  }
  return out;
}

/** JSON body `{"hello":{...},"batches":[...]}` built from each batch's cached JSON. */
export function requestBody(hello: Hello, batches: readonly QueuedBatch[]): string {
  return `{"hello":${JSON.stringify(httpHello(hello))},"batches":[${batches.map(batchJson).join(",")}]}`;
}

export type PostResult =
  | { ok: true; response: HttpIngestResponse }
  | { ok: false; status: number; code: string };

/** POST a body; status 0 means a network failure. Never rejects. */
export async function post(url: string, body: string): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: { "Content-Type": "text/plain" },
      credentials: "omit",
      mode: "cors",
      keepalive: utf8Length(body) < BEACON_MAX_BYTES,
    });
    let data: unknown = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (res.ok) {
      const response = parseHttpResponse(data);
      if (response) return { ok: true, response };
      return { ok: false, status: 502, code: "bad_response" };
    }
    return { ok: false, status: res.status, code: errorCode(data) };
  } catch (err) {
    debug("fetch failed", err);
    return { ok: false, status: 0, code: "network" };
  }
}

function errorCode(data: unknown): string {
  if (typeof data !== "object" || data === null) return "";
  const e = (data as Record<string, unknown>).error;
  if (typeof e !== "object" || e === null) return "";
  const c = (e as Record<string, unknown>).code;
  return typeof c === "string" ? c : "";
}

/** sendBeacon the oldest unacked batches that fit in 60 KB. Returns the number sent. */
export function beacon(url: string, hello: Hello, batches: readonly QueuedBatch[]): number {
  if (typeof navigator.sendBeacon !== "function" || !batches.length) return 0;
  const picked = oldestThatFit(batches, BEACON_MAX_BYTES - 2048);
  if (!picked.length) return 0;
  const blob = new Blob([requestBody(hello, picked)], { type: "text/plain" });
  if (blob.size > BEACON_MAX_BYTES) return 0;
  return navigator.sendBeacon(url, blob) ? picked.length : 0;
}
