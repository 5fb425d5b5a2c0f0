// Entry point of a site's overview (overview.html): totals, the daily chart,
// top pages, entry and exit pages, referrers, countries, devices, browsers
// and frustration, from GET /api/v1/sites/{id}/stats. Every number links to
// the sessions behind it, every page to its heatmap.
import "./insights.css";
import { clear, el } from "../dom";
import { formatDuration } from "../format";
import { message } from "../util";
import { badgeCount, barList, type BarRow } from "./bars";
import { getJson, parseStats, type FrustratedElement, type PageStat, type Stats } from "./data";
import { clickedSessionsUrl, heatmapPageUrl, pageSessionsUrl, readFilters, sessionsUrl, statsApiUrl, type Filters } from "./links";
import { formatCount, formatRate } from "./numbers";
import { SeriesChart } from "./series";

const TOP = 10;

interface Ctx {
  siteId: string;
  filters: Filters;
}

function totalCard(label: string, value: string, href: string, hint: string): HTMLElement {
  return el("a", { className: "card total", attrs: { href, title: hint } }, [
    el("span", { className: "total-label", text: label }),
    el("span", { className: "total-value", text: value }),
  ]);
}

function totals(ctx: Ctx, s: Stats): HTMLElement {
  const all = sessionsUrl(ctx.siteId, ctx.filters);
  const t = s.totals;
  return el("div", { className: "totals" }, [
    totalCard("Sessions", formatCount(t.sessions), all, "The sessions of this range"),
    totalCard("Visitors", formatCount(t.visitors), all, "Distinct visitors (per day and key, summed)"),
    totalCard("Page views", formatCount(t.page_views), all, "Page views of these sessions"),
    totalCard("Bounce rate", formatRate(t.bounce_rate), all, "Sessions with a single page view"),
    totalCard("Avg. session", formatDuration(t.avg_session_ms), all, "Mean session duration"),
  ]);
}

function frustrationBadges(ctx: Ctx, path: string, f: { rage_clicks: number; dead_clicks: number; error_clicks: number }): Array<Node | null> {
  return [
    badgeCount(f.rage_clicks, "rage", "rage clicks", pageSessionsUrl(ctx.siteId, ctx.filters, path, { has_rage_clicks: "true" }), "is-rage"),
    badgeCount(f.dead_clicks, "dead", "dead clicks", pageSessionsUrl(ctx.siteId, ctx.filters, path, { has_dead_clicks: "true" }), "is-dead"),
    badgeCount(f.error_clicks, "error", "clicks followed by an error", pageSessionsUrl(ctx.siteId, ctx.filters, path, { has_errors: "true" }), "is-error"),
  ];
}

function pageRows(ctx: Ctx, pages: ReadonlyArray<PageStat>, value: (p: PageStat) => number, withFrustration = false): BarRow[] {
  return [...pages]
    .filter((p) => value(p) > 0)
    .sort((a, b) => value(b) - value(a))
    .slice(0, TOP)
    .map((p) => ({
      label: p.path,
      labelHref: heatmapPageUrl(ctx.siteId, ctx.filters, p.path),
      labelTitle: `Heatmap of ${p.path}`,
      value: value(p),
      valueHref: pageSessionsUrl(ctx.siteId, ctx.filters, p.path),
      extras: withFrustration ? frustrationBadges(ctx, p.path, p) : [],
      mono: true,
    }));
}

function numberCell(n: number, href: string | null, className = "num"): HTMLElement {
  const text = formatCount(n);
  return el("td", { className }, [href && n > 0 ? el("a", { text, attrs: { href } }) : el("span", { text })]);
}

/** The top pages as a table: every figure of a page, each linking to its sessions. */
function pagesTable(ctx: Ctx, pages: ReadonlyArray<PageStat>): HTMLElement {
  const max = pages.reduce((m, p) => Math.max(m, p.views), 0);
  const head = el("tr", {}, ["Page", "Views", "Visitors", "Entries", "Exits", "Avg. time", "Frustration", "Heatmap"].map((h, i) =>
    el("th", { className: i > 0 && i < 6 ? "num" : "", text: h, attrs: { scope: "col" } }),
  ));
  const body = el("tbody");
  for (const p of pages.slice(0, 25)) {
    const sessions = pageSessionsUrl(ctx.siteId, ctx.filters, p.path);
    const bar = el("span", { className: "bar", attrs: { "aria-hidden": "true" } });
    bar.style.width = `${max > 0 ? (p.views / max) * 100 : 0}%`;
    const heat = heatmapPageUrl(ctx.siteId, ctx.filters, p.path);
    body.appendChild(
      el("tr", { attrs: { "data-path": p.path } }, [
        el("td", { className: "url page-cell" }, [bar, el("a", { className: "truncate mono", text: p.path, attrs: { href: sessions, title: `Sessions that viewed ${p.path}` } })]),
        numberCell(p.views, sessions),
        numberCell(p.visitors, sessions),
        numberCell(p.entries, sessions),
        numberCell(p.exits, sessions),
        el("td", { className: "num nowrap", text: formatDuration(p.avg_time_ms) }),
        el("td", { className: "nowrap" }, frustrationBadges(ctx, p.path, p)),
        el("td", { className: "nowrap" }, [
          el("a", { className: "btn btn-small btn-quiet heat-link", text: "Clicks", attrs: { href: heat, title: `Click map of ${p.path}` } }),
          el("a", { className: "btn btn-small btn-quiet heat-link", text: "Scroll", attrs: { href: heatmapPageUrl(ctx.siteId, ctx.filters, p.path, "scroll"), title: `Scroll map of ${p.path}` } }),
        ]),
      ]),
    );
  }
  const table = el("table", { className: "table pages-table" }, [el("thead", {}, [head]), body]);
  return el("section", { className: "card insight-card insight-wide", attrs: { id: "top-pages" } }, [
    el("h2", { className: "insight-title", text: "Top pages" }),
    pages.length ? el("div", { className: "table-scroll" }, [table]) : el("p", { className: "muted bar-empty", text: "No page views in this range." }),
  ]);
}

function namedList(ctx: Ctx, title: string, rows: ReadonlyArray<{ name: string; sessions: number }>, filter: string, noName: string, id: string): HTMLElement {
  return barList(
    title,
    rows.slice(0, TOP).map((r) => ({
      label: r.name || noName,
      value: r.sessions,
      // The unnamed group (direct visits, unknown country) has no filter to link to.
      valueHref: r.name ? sessionsUrl(ctx.siteId, ctx.filters, { [filter]: r.name }) : undefined,
      labelHref: r.name ? sessionsUrl(ctx.siteId, ctx.filters, { [filter]: r.name }) : undefined,
    })),
    { unit: "sessions", id },
  );
}

function elementRows(ctx: Ctx, elements: ReadonlyArray<FrustratedElement>): HTMLElement {
  const list = el("ol", { className: "element-list" });
  for (const e of elements.slice(0, TOP)) {
    const href = clickedSessionsUrl(ctx.siteId, ctx.filters, e.path, e.selector);
    list.appendChild(
      el("li", { className: "element-row" }, [
        el("a", { className: "element-selector mono", text: e.selector || "(unknown element)", attrs: { href, title: `Sessions that clicked ${e.selector} on ${e.path}` } }),
        el("a", { className: "element-path muted mono", text: e.path, attrs: { href: heatmapPageUrl(ctx.siteId, ctx.filters, e.path), title: `Heatmap of ${e.path}` } }),
        el("span", { className: "element-counts" }, [
          badgeCount(e.rage_clicks, "rage", "rage clicks", href, "is-rage"),
          badgeCount(e.dead_clicks, "dead", "dead clicks", href, "is-dead"),
          badgeCount(e.error_clicks, "error", "clicks followed by an error", href, "is-error"),
        ]),
      ]),
    );
  }
  return el("section", { className: "card insight-card", attrs: { id: "frustrated-elements" } }, [
    el("h2", { className: "insight-title" }, [el("span", { text: "Frustrating elements" }), el("span", { className: "insight-unit", text: "rage · dead · error" })]),
    elements.length ? list : el("p", { className: "muted bar-empty", text: "No rage, dead or error clicks in this range." }),
  ]);
}

function frustrationScore(f: { rage_clicks: number; dead_clicks: number; error_clicks: number }): number {
  return f.rage_clicks + f.dead_clicks + f.error_clicks;
}

function render(root: HTMLElement, ctx: Ctx, s: Stats): void {
  clear(root);
  root.appendChild(totals(ctx, s));
  const chart = new SeriesChart(s.series, s.totals, (day) => {
    window.location.href = sessionsUrl(ctx.siteId, ctx.filters, { from: day, to: day });
  });
  root.appendChild(
    el("section", { className: "card insight-card insight-wide", attrs: { id: "series" } }, [
      el("h2", { className: "insight-title" }, [el("span", { text: "Sessions, visitors and page views per day" }), el("span", { className: "insight-unit", text: "click a day for its sessions" })]),
      chart.element,
    ]),
  );
  chart.mount();
  root.appendChild(pagesTable(ctx, s.pages));
  const frustratedPages = [...s.frustration.pages].filter((p) => frustrationScore(p) > 0).sort((a, b) => frustrationScore(b) - frustrationScore(a));
  const grid = el("div", { className: "insight-grid" }, [
    barList("Entry pages", pageRows(ctx, s.pages, (p) => p.entries), { unit: "entries", id: "entry-pages" }),
    barList("Exit pages", pageRows(ctx, s.pages, (p) => p.exits), { unit: "exits", id: "exit-pages" }),
    namedList(ctx, "Referrers", s.referrers, "referrer", "(direct)", "referrers"),
    namedList(ctx, "Countries", s.countries, "country", "(unknown)", "countries"),
    namedList(ctx, "Devices", s.devices, "device", "(unknown)", "devices"),
    namedList(ctx, "Browsers", s.browsers, "browser", "(unknown)", "browsers"),
    barList(
      "Frustrated pages",
      frustratedPages.slice(0, TOP).map((p) => ({
        label: p.path,
        labelHref: heatmapPageUrl(ctx.siteId, ctx.filters, p.path),
        labelTitle: `Heatmap of ${p.path}`,
        value: frustrationScore(p),
        valueHref: pageSessionsUrl(ctx.siteId, ctx.filters, p.path),
        extras: frustrationBadges(ctx, p.path, p),
        mono: true,
      })),
      { unit: "frustrated clicks", id: "frustrated-pages", empty: "No rage, dead or error clicks in this range." },
    ),
    elementRows(ctx, s.frustration.elements),
  ]);
  root.appendChild(grid);
}

async function main(): Promise<void> {
  const root = document.getElementById("overview");
  if (!root) return;
  const ctx: Ctx = { siteId: root.dataset.siteId || "", filters: readFilters(root.dataset) };
  try {
    const stats = parseStats(await getJson(statsApiUrl(root.dataset.apiBase || "/api/v1", ctx.siteId, ctx.filters, root.dataset.url ?? "")));
    render(root, ctx, stats);
    document.documentElement.dataset.overview = "ready";
  } catch (err) {
    clear(root);
    root.appendChild(el("p", { className: "alert alert-error", text: message(err) }));
    document.documentElement.dataset.overview = "error";
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void main());
else void main();
