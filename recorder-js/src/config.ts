// Protocol v1 message types (docs/protocol.md), the site's recording config and its defaults.

import type { eventWithTime } from "@rrweb/types";

export type RecEvent = eventWithTime;

/** The site's recording settings, from `welcome.config` (or the HTTP fallback's response). */
export interface SiteConfig {
  record: boolean;
  maskAllInputs: boolean;
  maskAllText: boolean;
  blockSelector: string;
  maskTextSelector: string;
  batchMs: number;
  mousemoveSampleMs: number;
  /** query parameter names whose values are kept / redacted in URLs (urls.ts) */
  urlParamsAllow: string[];
  urlParamsDeny: string[];
}

/** Privacy defaults, used until the server's config is known. */
export const DEFAULT_CONFIG: SiteConfig = {
  record: true,
  maskAllInputs: true,
  maskAllText: false,
  blockSelector: "",
  maskTextSelector: "",
  batchMs: 1000,
  mousemoveSampleMs: 50,
  urlParamsAllow: [],
  urlParamsDeny: [],
};

export interface Hello {
  t: "hello";
  v: 1;
  site: string;
  sid: string;
  vid: string;
  page: number;
  url: string;
  referrer: string;
  title: string;
  viewport: [number, number];
  screen: [number, number];
  lang: string;
  tz: string;
  clock: number;
}

export type HttpHello = Omit<Hello, "t">;

export interface PlainBatch {
  seq: number;
  page: number;
  events: RecEvent[];
}

export interface BatchMessage {
  t: "batch";
  seq: number;
  page: number;
  events?: RecEvent[];
  gz?: Uint8Array;
}

export interface ByeMessage {
  t: "bye";
}

export type ClientMessage = Hello | BatchMessage | ByeMessage;

export interface WelcomeMessage {
  t: "welcome";
  sid: string;
  acked: number;
  config: SiteConfig;
}

export interface AckMessage {
  t: "ack";
  seq: number;
}

export interface ErrorMessage {
  t: "error";
  code: string;
  message: string;
  /** not in protocol v1: if a server names the offending batch, exactly that one is dropped */
  seq?: number;
}

export type ServerMessage = WelcomeMessage | AckMessage | ErrorMessage;

/** Body of `POST /ingest/batch` as this recorder sends it (JSON, text/plain). */
export interface HttpIngestRequest {
  hello: HttpHello;
  batches: PlainBatch[];
}

export interface HttpIngestResponse {
  acked: number;
  config: SiteConfig | null;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bool(v: unknown, d: boolean): boolean {
  return typeof v === "boolean" ? v : d;
}

function str(v: unknown, d: string): string {
  return typeof v === "string" ? v : d;
}

function int(v: unknown, d: number, min: number, max: number): number {
  return typeof v === "number" && isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : d;
}

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((n): n is string => typeof n === "string").map((n) => n.toLowerCase()) : [];
}

/** Validate an untrusted config; missing or wrong-typed keys take the privacy defaults. */
export function parseConfig(raw: unknown): SiteConfig {
  const c = isObj(raw) ? raw : {};
  const d = DEFAULT_CONFIG;
  return {
    record: bool(c.record, d.record),
    maskAllInputs: bool(c.maskAllInputs, d.maskAllInputs),
    maskAllText: bool(c.maskAllText, d.maskAllText),
    blockSelector: str(c.blockSelector, d.blockSelector),
    maskTextSelector: str(c.maskTextSelector, d.maskTextSelector),
    batchMs: int(c.batchMs, d.batchMs, 200, 60000),
    mousemoveSampleMs: int(c.mousemoveSampleMs, d.mousemoveSampleMs, 0, 10000),
    urlParamsAllow: names(c.urlParamsAllow),
    urlParamsDeny: names(c.urlParamsDeny),
  };
}

/** True when two configs differ in rrweb options (masking, blocking, sampling): a new recording is needed. */
export function recordingDiffers(a: SiteConfig, b: SiteConfig): boolean {
  return (
    a.maskAllInputs !== b.maskAllInputs ||
    a.maskAllText !== b.maskAllText ||
    a.blockSelector !== b.blockSelector ||
    a.maskTextSelector !== b.maskTextSelector ||
    a.mousemoveSampleMs !== b.mousemoveSampleMs
  );
}

function num(v: unknown): number | null {
  return typeof v === "number" && isFinite(v) ? v : null;
}

/** Validate an untrusted server -> client message. */
export function parseServerMessage(raw: unknown): ServerMessage | null {
  if (!isObj(raw)) return null;
  if (raw.t === "welcome") {
    const acked = num(raw.acked);
    if (acked === null) return null;
    return { t: "welcome", sid: str(raw.sid, ""), acked, config: parseConfig(raw.config) };
  }
  if (raw.t === "ack") {
    const seq = num(raw.seq);
    return seq === null ? null : { t: "ack", seq };
  }
  if (raw.t === "error") {
    const err: ErrorMessage = { t: "error", code: str(raw.code, ""), message: str(raw.message, "") };
    const seq = num(raw.seq);
    if (seq !== null) err.seq = seq;
    return err;
  }
  return null;
}

/** Validate an untrusted HTTP fallback response. */
export function parseHttpResponse(raw: unknown): HttpIngestResponse | null {
  if (!isObj(raw)) return null;
  const acked = num(raw.acked);
  if (acked === null) return null;
  return { acked, config: isObj(raw.config) ? parseConfig(raw.config) : null };
}
