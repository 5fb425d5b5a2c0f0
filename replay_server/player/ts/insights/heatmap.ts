// Entry point of the heatmap page (heatmap.html): the click or scroll map of
// one page for one device class, drawn over that page as we stored it
// (snapshot.ts), from GET /api/v1/sites/{id}/heatmap. Hovering an element
// shows its counts; clicking it opens the sessions that clicked it.
import { Api } from "../api";
import "./insights.css";
import { clear, el } from "../dom";
import { message } from "../util";
import { barList } from "./bars";
import { getJson, parseHeatmap, type ClickMap, type HeatmapData, type ScrollMap } from "./data";
import { anchorSpot, boxAt, canvasScale, percentLabel, POINT_RADIUS, scrollBands, type Box } from "./geometry";
import { HeatCanvas, type WeightedSpot } from "./heatcanvas";
import { clickedSessionsUrl, heatmapApiUrl, isHeatDevice, pageSessionsUrl, readFilters, type Filters, type HeatDevice, type HeatKind } from "./links";
import { formatCount } from "./numbers";
import { DrawnPage } from "./snapshot";
import { Stage } from "./stage";

/** Raw click positions add fine grain under the elements' anchored heat, at this weight. */
const POINT_WEIGHT = 0.3;
const SETTLE_MS = 800;

interface Ctx {
  siteId: string;
  filters: Filters;
  path: string;
  kind: HeatKind;
  device: HeatDevice;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

function sessionsOfPage(ctx: Ctx): string {
  return pageSessionsUrl(ctx.siteId, ctx.filters, ctx.path, { device: ctx.device });
}

function elementSessions(ctx: Ctx, selector: string): string {
  return clickedSessionsUrl(ctx.siteId, { ...ctx.filters, device: ctx.device }, ctx.path, selector);
}

function summary(ctx: Ctx, data: HeatmapData): HTMLElement {
  const what = data.kind === "click" ? "Clicks" : "Scroll depth";
  return el("div", { className: "heat-summary" }, [
    el("p", {}, [
      el("a", { className: "heat-views", text: `${formatCount(data.page_views)} page views`, attrs: { href: sessionsOfPage(ctx), title: "The sessions that viewed this page" } }),
      el("span", { className: "muted", text: ` on ${ctx.device}` }),
    ]),
    el("div", { className: "heat-legend", attrs: { "aria-hidden": "true" } }, [
      el("span", { text: data.kind === "click" ? "fewer" : "none" }),
      el("span", { className: "heat-legend-ramp" }),
      el("span", { text: data.kind === "click" ? "more clicks" : "all page views" }),
    ]),
    el("p", { className: "muted heat-what", text: data.kind === "click" ? `${what}: hover an element for its counts, click it for its sessions.` : `${what}: the share of page views that reached each depth; the dashed line is the average fold.` }),
  ]);
}

function elementLabel(e: ClickMap["elements"][number]): string[] {
  const lines = [e.selector || "(unknown element)", `${formatCount(e.clicks)} clicks`];
  const extra = [
    e.rage_clicks ? `${formatCount(e.rage_clicks)} rage` : "",
    e.dead_clicks ? `${formatCount(e.dead_clicks)} dead` : "",
    e.error_clicks ? `${formatCount(e.error_clicks)} error` : "",
  ].filter(Boolean);
  lines.push(extra.length ? extra.join(" · ") : "no rage, dead or error clicks");
  return lines;
}

/** Click map: each element's heat on its drawn box (or its recorded position), plus the raw positions. */
function paintClicks(ctx: Ctx, data: ClickMap, drawn: DrawnPage, stage: Stage, side: HTMLElement): void {
  const elements = [...data.elements].sort((a, b) => b.clicks - a.clicks);
  const found = elements.map((e) => drawn.boxOf(e.selector));
  const maxClicks = elements.reduce((m, e) => Math.max(m, e.clicks), 0);
  const maxPoint = data.points.reduce((m, p) => Math.max(m, p.count), 0);
  const spots: WeightedSpot[] = [];
  const hitBoxes: Box[] = [];
  elements.forEach((e, i) => {
    const spot = anchorSpot(found[i] ?? null, e.x, e.y);
    spots.push({ ...spot, weight: maxClicks ? e.clicks / maxClicks : 0 });
    hitBoxes.push(found[i] ?? { left: spot.x - spot.radius, top: spot.y - spot.radius, width: 2 * spot.radius, height: 2 * spot.radius });
  });
  for (const p of data.points) spots.push({ x: p.x, y: p.y, radius: POINT_RADIUS, weight: maxPoint ? (p.count / maxPoint) * POINT_WEIGHT : 0 });
  const heat = new HeatCanvas(drawn.width, drawn.height, canvasScale(stage.scale, window.devicePixelRatio, drawn.width, drawn.height));
  heat.drawClicks(spots);
  stage.overlay.replaceChildren(heat.canvas);
  stage.overlay.dataset.found = String(found.filter(Boolean).length);

  const at = (ev: MouseEvent): number => {
    const p = stage.pagePoint(ev);
    return boxAt(hitBoxes, p.x, p.y);
  };
  stage.sizer.onmousemove = (ev) => {
    const i = at(ev);
    const e = elements[i];
    stage.sizer.classList.toggle("is-pointing", Boolean(e));
    stage.highlight(e ? (hitBoxes[i] ?? null) : null, e ? elementLabel(e) : []);
  };
  stage.sizer.onmouseleave = () => stage.highlight(null);
  stage.sizer.onclick = (ev) => {
    const e = elements[at(ev)];
    if (e) window.location.href = elementSessions(ctx, e.selector);
  };

  const missing = found.filter((b) => !b).length;
  const list = barList(
    "Clicked elements",
    elements.slice(0, 30).map((e, i) => ({
      label: e.selector || "(unknown element)",
      labelTitle: found[i] ? e.selector : `${e.selector}: not on the drawn page, its heat is at its recorded position`,
      value: e.clicks,
      valueHref: elementSessions(ctx, e.selector),
      labelHref: elementSessions(ctx, e.selector),
      mono: true,
    })),
    { unit: "clicks", id: "heat-elements", empty: "No clicks on this page in this range." },
  );
  list.querySelectorAll(".bar-row").forEach((row, i) => {
    row.addEventListener("mouseenter", () => {
      const e = elements[i];
      if (e) stage.highlight(hitBoxes[i] ?? null, elementLabel(e));
    });
    row.addEventListener("mouseleave", () => stage.highlight(null));
  });
  side.appendChild(list);
  if (missing) {
    side.appendChild(el("p", { className: "muted heat-note", text: `${missing} of ${elements.length} elements are not on the drawn page (another layout or state): their heat is at their recorded position.` }));
  }
}

function paintScroll(data: ScrollMap, drawn: DrawnPage, stage: Stage): void {
  const bands = scrollBands(data.depths, drawn.height);
  const heat = new HeatCanvas(drawn.width, drawn.height, canvasScale(stage.scale, window.devicePixelRatio, drawn.width, drawn.height));
  heat.drawScroll(bands, data.fold_px);
  stage.overlay.replaceChildren(heat.canvas);
  for (const b of bands) {
    if (b.percent % 10 === 0) stage.label(b.top, `${b.percent}% down: ${percentLabel(b.share)} of page views`, "is-depth");
  }
  if (data.fold_px > 0) stage.label(data.fold_px, `Average fold (${formatCount(data.fold_px)} px)`, "is-fold");
  stage.sizer.onmousemove = (ev) => {
    const p = stage.pagePoint(ev);
    const band = bands.find((b) => p.y >= b.top && p.y < b.bottom);
    if (!band) return stage.highlight(null);
    stage.tipAt(p.x, p.y, [`${percentLabel(band.share)} of page views`, `reached ${band.percent}% of the page`]);
  };
  stage.sizer.onmouseleave = () => stage.highlight(null);
}

function scrollList(ctx: Ctx, data: ScrollMap): HTMLElement {
  return barList(
    "Reached depth",
    [...data.depths]
      .sort((a, b) => a.percent - b.percent)
      .filter((d) => d.percent % 10 === 0)
      .map((d) => ({ label: `${d.percent}% of the page`, value: d.reached, valueHref: sessionsOfPage(ctx), labelTitle: `${percentLabel(d.share)} of page views reached ${d.percent}%` })),
    { unit: "page views", id: "heat-depths", empty: "No page views of this page in this range." },
  );
}

async function draw(ctx: Ctx, api: Api, data: HeatmapData, stage: Stage, side: HTMLElement, notice: HTMLElement): Promise<void> {
  if (data.kind === "scroll") side.appendChild(scrollList(ctx, data));
  if (!data.snapshot) {
    notice.textContent = `No stored recording of ${ctx.path} on ${ctx.device} in this range to draw the page from.`;
    notice.hidden = false;
    stage.element.hidden = true;
    if (data.kind === "click") paintClicksWithoutPage(ctx, data, side);
    return;
  }
  const snap = data.snapshot;
  stage.fit(snap.width || 1280, snap.height || 800);
  let drawn: DrawnPage;
  try {
    drawn = await DrawnPage.draw(api, snap, stage.page);
  } catch (err) {
    // The counts stand without the picture: say why it is missing, list them.
    notice.textContent = `The page could not be drawn: ${message(err)}`;
    notice.hidden = false;
    stage.element.hidden = true;
    if (data.kind === "click") paintClicksWithoutPage(ctx, data, side);
    return;
  }
  await wait(SETTLE_MS); // images and fonts of the drawn page change its height
  drawn.fullHeight();
  stage.fit(drawn.width, drawn.height);
  stage.element.dataset.width = String(drawn.width);
  stage.element.dataset.height = String(drawn.height);
  if (data.kind === "click") paintClicks(ctx, data, drawn, stage, side);
  else paintScroll(data, drawn, stage);
  window.addEventListener("resize", () => stage.refit());
}

/** Without a page to draw on, the element list still says what was clicked. */
function paintClicksWithoutPage(ctx: Ctx, data: ClickMap, side: HTMLElement): void {
  side.appendChild(
    barList(
      "Clicked elements",
      [...data.elements].sort((a, b) => b.clicks - a.clicks).slice(0, 30).map((e) => ({
        label: e.selector || "(unknown element)",
        value: e.clicks,
        valueHref: elementSessions(ctx, e.selector),
        labelHref: elementSessions(ctx, e.selector),
        mono: true,
      })),
      { unit: "clicks", id: "heat-elements", empty: "No clicks on this page in this range." },
    ),
  );
}

async function main(): Promise<void> {
  const root = document.getElementById("heatmap");
  if (!root) return;
  const d = root.dataset;
  const kind: HeatKind = d.kind === "scroll" ? "scroll" : "click";
  const device: HeatDevice = isHeatDevice(d.device || "") ? (d.device as HeatDevice) : "desktop";
  const ctx: Ctx = { siteId: d.siteId || "", filters: readFilters(d), path: d.url || "", kind, device };
  const apiBase = d.apiBase || "/api/v1";
  // rrweb applies events from its own timers; a failure there must not go unhandled.
  window.addEventListener("unhandledrejection", (e) => e.preventDefault());
  const stage = new Stage();
  const side = el("aside", { className: "heat-side" });
  const notice = el("p", { className: "alert heat-notice", attrs: { hidden: "", role: "status" } });
  clear(root);
  root.appendChild(el("div", { className: "heat-layout" }, [side, el("div", { className: "heat-main" }, [notice, stage.element])]));
  try {
    const data = parseHeatmap(await getJson(heatmapApiUrl(apiBase, ctx.siteId, ctx.filters, ctx.path, kind, device)), kind);
    side.appendChild(summary(ctx, data));
    await draw(ctx, new Api(apiBase), data, stage, side, notice);
    document.documentElement.dataset.heatmap = "ready";
  } catch (err) {
    notice.textContent = message(err);
    notice.classList.add("alert-error");
    notice.hidden = false;
    document.documentElement.dataset.heatmap = "error";
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void main());
else void main();
