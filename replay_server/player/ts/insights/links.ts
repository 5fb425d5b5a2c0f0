// Where every number of the insights pages leads: the session list filtered
// to the sessions behind it (the session search's own query string, so the
// link is shareable and the list shows its filters), the heatmap of a page,
// and the API URLs the pages read. Pure: strings in, strings out.

/** The date range and session filters the insights pages share with the session search. */
export interface Filters {
  from: string;
  to: string;
  device: string;
  browser: string;
  os: string;
  country: string;
}

export const FILTER_KEYS: ReadonlyArray<keyof Filters> = ["from", "to", "device", "browser", "os", "country"];

export type HeatKind = "click" | "scroll";
export type HeatDevice = "desktop" | "tablet" | "mobile";

/** The filters from a page's data attributes (the server fills in the default range). */
export function readFilters(data: Readonly<Record<string, string | undefined>>): Filters {
  const get = (k: keyof Filters): string => (data[k] ?? "").trim();
  return { from: get("from"), to: get("to"), device: get("device"), browser: get("browser"), os: get("os"), country: get("country") };
}

function query(params: ReadonlyArray<[string, string]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of params) if (v !== "") q.append(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

function filterParams(filters: Filters, skip: ReadonlyArray<string> = []): Array<[string, string]> {
  return FILTER_KEYS.filter((k) => !skip.includes(k)).map((k) => [k, filters[k]]);
}

/** Extra conditions of a link; they replace a filter of the same name (a day replaces the range). */
export type Extra = Readonly<Record<string, string>>;

/** The session list of the site, filtered by the page's filters and `extra`. */
export function sessionsUrl(siteId: string, filters: Filters, extra: Extra = {}): string {
  const params = filterParams(filters, Object.keys(extra));
  for (const [k, v] of Object.entries(extra)) params.push([k, v]);
  return `/sites/${encodeURIComponent(siteId)}/sessions${query(params)}`;
}

/** Sessions that viewed exactly this page (path or full URL). */
export function pageSessionsUrl(siteId: string, filters: Filters, path: string, extra: Extra = {}): string {
  return sessionsUrl(siteId, filters, { url: path, url_match: "exact", ...extra });
}

/** Sessions that clicked this element (CSS selector) of this page. */
export function clickedSessionsUrl(siteId: string, filters: Filters, path: string, selector: string): string {
  return sessionsUrl(siteId, filters, { url: path, url_match: "exact", clicked: selector });
}

/** The heatmap page of a path; the session device filter becomes its device class. */
export function heatmapPageUrl(siteId: string, filters: Filters, path: string, kind: HeatKind = "click", device?: HeatDevice): string {
  const cls = device ?? (isHeatDevice(filters.device) ? filters.device : "desktop");
  const params: Array<[string, string]> = [["url", path], ["kind", kind], ["device", cls]];
  params.push(...filterParams(filters, ["device"]));
  return `/sites/${encodeURIComponent(siteId)}/heatmap${query(params)}`;
}

export function isHeatDevice(v: string): v is HeatDevice {
  return v === "desktop" || v === "tablet" || v === "mobile";
}

/** The stats API; `page` (a path or URL, contained) narrows the page figures only. */
export function statsApiUrl(apiBase: string, siteId: string, filters: Filters, page = ""): string {
  const params = filterParams(filters);
  params.push(["url", page.trim()]);
  return `${apiBase.replace(/\/+$/, "")}/sites/${encodeURIComponent(siteId)}/stats${query(params)}`;
}

export function heatmapApiUrl(apiBase: string, siteId: string, filters: Filters, path: string, kind: HeatKind, device: HeatDevice): string {
  const params: Array<[string, string]> = [["url", path], ["kind", kind], ["device", device]];
  params.push(...filterParams(filters, ["device"]));
  return `${apiBase.replace(/\/+$/, "")}/sites/${encodeURIComponent(siteId)}/heatmap${query(params)}`;
}
