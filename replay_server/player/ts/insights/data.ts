// The insights API (GET /api/v1/sites/{id}/stats and /heatmap), checked at
// this boundary: the pages only see these types. Missing counts read as 0 and
// unknown fields are ignored, so a newer server does not break the page.
import { ApiError } from "../api";

export interface Totals {
  sessions: number;
  visitors: number;
  page_views: number;
  bounce_rate: number;
  avg_session_ms: number;
}

export interface DayPoint {
  day: string;
  sessions: number;
  visitors: number;
  page_views: number;
}

export interface PageStat {
  path: string;
  views: number;
  visitors: number;
  sessions: number;
  entries: number;
  exits: number;
  bounces: number;
  clicks: number;
  avg_time_ms: number;
  rage_clicks: number;
  dead_clicks: number;
  error_clicks: number;
}

export interface NamedCount {
  name: string;
  sessions: number;
}

export interface Frustration {
  rage_clicks: number;
  dead_clicks: number;
  error_clicks: number;
}

export interface FrustratedPage extends Frustration {
  path: string;
}

export interface FrustratedElement extends Frustration {
  path: string;
  selector: string;
}

export interface Stats {
  totals: Totals;
  series: DayPoint[];
  pages: PageStat[];
  referrers: NamedCount[];
  countries: NamedCount[];
  devices: NamedCount[];
  browsers: NamedCount[];
  frustration: { pages: FrustratedPage[]; elements: FrustratedElement[] };
}

export interface Snapshot {
  session_id: string;
  page: number;
  ts: number;
  width: number;
  height: number;
}

export interface ElementStat extends Frustration {
  selector: string;
  clicks: number;
  /** Mean click position, page px of the recorded layout. */
  x: number;
  y: number;
}

export interface Point {
  x: number;
  y: number;
  count: number;
}

export interface Depth {
  percent: number;
  reached: number;
  share: number;
}

export interface ClickMap {
  kind: "click";
  path: string;
  device: string;
  page_views: number;
  elements: ElementStat[];
  points: Point[];
  snapshot: Snapshot | null;
}

export interface ScrollMap {
  kind: "scroll";
  path: string;
  device: string;
  page_views: number;
  depths: Depth[];
  fold_px: number;
  snapshot: Snapshot | null;
}

export type HeatmapData = ClickMap | ScrollMap;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(what: string): ApiError {
  return new ApiError(0, "bad_response", `The server sent an unexpected response (${what}).`);
}

function count(o: Obj, key: string): number {
  const v = o[key];
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function text(o: Obj, key: string): string {
  const v = o[key];
  return typeof v === "string" ? v : "";
}

function list<T>(v: unknown, parse: (o: Obj) => T): T[] {
  return Array.isArray(v) ? v.filter(isObj).map(parse) : [];
}

function frustration(o: Obj): Frustration {
  return { rage_clicks: count(o, "rage_clicks"), dead_clicks: count(o, "dead_clicks"), error_clicks: count(o, "error_clicks") };
}

const named = (o: Obj): NamedCount => ({ name: text(o, "name"), sessions: count(o, "sessions") });

export function parseStats(v: unknown): Stats {
  if (!isObj(v) || !isObj(v["totals"])) throw bad("no totals");
  const t = v["totals"];
  const f = isObj(v["frustration"]) ? v["frustration"] : {};
  return {
    totals: {
      sessions: count(t, "sessions"),
      visitors: count(t, "visitors"),
      page_views: count(t, "page_views"),
      bounce_rate: count(t, "bounce_rate"),
      avg_session_ms: count(t, "avg_session_ms"),
    },
    series: list(v["series"], (o) => ({
      day: text(o, "day"),
      sessions: count(o, "sessions"),
      visitors: count(o, "visitors"),
      page_views: count(o, "page_views"),
    })),
    pages: list(v["pages"], (o) => ({
      path: text(o, "path"),
      views: count(o, "views"),
      visitors: count(o, "visitors"),
      sessions: count(o, "sessions"),
      entries: count(o, "entries"),
      exits: count(o, "exits"),
      bounces: count(o, "bounces"),
      clicks: count(o, "clicks"),
      avg_time_ms: count(o, "avg_time_ms"),
      ...frustration(o),
    })),
    referrers: list(v["referrers"], named),
    countries: list(v["countries"], named),
    devices: list(v["devices"], named),
    browsers: list(v["browsers"], named),
    frustration: {
      pages: list(f["pages"], (o) => ({ path: text(o, "path"), ...frustration(o) })),
      elements: list(f["elements"], (o) => ({ path: text(o, "path"), selector: text(o, "selector"), ...frustration(o) })),
    },
  };
}

function parseSnapshot(v: unknown): Snapshot | null {
  if (!isObj(v) || typeof v["session_id"] !== "string" || !v["session_id"]) return null;
  return {
    session_id: v["session_id"],
    page: count(v, "page"),
    ts: count(v, "ts"),
    width: count(v, "width"),
    height: count(v, "height"),
  };
}

export function parseHeatmap(v: unknown, kind: "click" | "scroll"): HeatmapData {
  if (!isObj(v)) throw bad("heatmap is not an object");
  const common = {
    path: text(v, "path"),
    device: text(v, "device"),
    page_views: count(v, "page_views"),
    snapshot: parseSnapshot(v["snapshot"]),
  };
  if (kind === "scroll") {
    return {
      kind,
      ...common,
      depths: list(v["depths"], (o) => ({ percent: count(o, "percent"), reached: count(o, "reached"), share: count(o, "share") })),
      fold_px: count(v, "fold_px"),
    };
  }
  return {
    kind,
    ...common,
    elements: list(v["elements"], (o) => ({
      selector: text(o, "selector"),
      clicks: count(o, "clicks"),
      x: count(o, "x"),
      y: count(o, "y"),
      ...frustration(o),
    })),
    points: list(v["points"], (o) => ({ x: count(o, "x"), y: count(o, "y"), count: count(o, "count") })),
  };
}

/** GET a JSON document of the API with the login cookie; API errors keep their message. */
export async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check your connection and reload.");
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    if (res.ok) throw bad("unreadable body");
  }
  if (!res.ok) {
    const err = isObj(body) && isObj(body["error"]) ? body["error"] : {};
    const message = text(err, "message") || `The server answered with status ${res.status}.`;
    throw new ApiError(res.status, text(err, "code") || `http_${res.status}`, message);
  }
  return body;
}
