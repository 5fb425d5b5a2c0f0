import assert from "node:assert/strict";
import { test } from "node:test";
import { parseHeatmap, parseStats } from "../insights/data";
import { daySeconds, seriesColumns, validDays } from "../insights/days";
import { anchorSpot, boxAt, canvasScale, fitScale, percentLabel, scrollBands } from "../insights/geometry";
import { colorize, heatColor, palette, shareColor } from "../insights/heatscale";
import { clickedSessionsUrl, heatmapApiUrl, heatmapPageUrl, pageSessionsUrl, readFilters, sessionsUrl, statsApiUrl } from "../insights/links";
import { barWidth, formatCount, formatRate } from "../insights/numbers";

const filters = readFilters({ from: "2026-11-01", to: "2026-11-30", device: "", browser: "Firefox", os: "", country: "DE" });

function params(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url, "http://x").searchParams);
}

test("links to sessions carry the range and filters; the link's own conditions win", () => {
  assert.equal(sessionsUrl("3", filters), "/sites/3/sessions?from=2026-11-01&to=2026-11-30&browser=Firefox&country=DE");
  const day = params(sessionsUrl("3", filters, { from: "2026-11-05", to: "2026-11-05" }));
  assert.deepEqual(day, { from: "2026-11-05", to: "2026-11-05", browser: "Firefox", country: "DE" });
  const page = pageSessionsUrl("3", filters, "/a b?x=1&y=2", { has_rage_clicks: "true" });
  assert.equal(params(page)["url"], "/a b?x=1&y=2");
  assert.equal(params(page)["url_match"], "exact");
  assert.equal(params(page)["has_rage_clicks"], "true");
  const clicked = params(clickedSessionsUrl("3", filters, "/buy", "html > body > button#buy.big:nth-child(2)"));
  assert.equal(clicked["clicked"], "html > body > button#buy.big:nth-child(2)");
  assert.equal(clicked["url"], "/buy");
  assert.equal(clicked["url_match"], "exact");
  assert.ok(sessionsUrl("a/b", filters).startsWith("/sites/a%2Fb/sessions"));
});

test("heatmap links: a session device filter becomes the device class, else desktop", () => {
  assert.deepEqual(params(heatmapPageUrl("3", filters, "/p")), { url: "/p", kind: "click", device: "desktop", from: "2026-11-01", to: "2026-11-30", browser: "Firefox", country: "DE" });
  assert.equal(params(heatmapPageUrl("3", { ...filters, device: "mobile" }, "/p", "scroll"))["device"], "mobile");
  assert.equal(params(heatmapPageUrl("3", { ...filters, device: "bot" }, "/p"))["device"], "desktop");
  assert.ok(heatmapPageUrl("3", filters, "/p").startsWith("/sites/3/heatmap?"));
});

test("API URLs: the stats and heatmap endpoints of the contract", () => {
  assert.equal(statsApiUrl("/api/v1/", "3", filters), "/api/v1/sites/3/stats?from=2026-11-01&to=2026-11-30&browser=Firefox&country=DE");
  assert.equal(statsApiUrl("/api/v1", "3", filters, " /shop "), "/api/v1/sites/3/stats?from=2026-11-01&to=2026-11-30&browser=Firefox&country=DE&url=%2Fshop");
  const heat = heatmapApiUrl("/api/v1", "3", { ...filters, device: "mobile" }, "/p", "scroll", "tablet");
  assert.ok(heat.startsWith("/api/v1/sites/3/heatmap?"));
  assert.deepEqual(params(heat), { url: "/p", kind: "scroll", device: "tablet", from: "2026-11-01", to: "2026-11-30", browser: "Firefox", country: "DE" });
});

test("stats and heatmap responses: counts default to 0, junk is dropped, no totals is an error", () => {
  const s = parseStats({
    totals: { sessions: 3, visitors: 2, page_views: 7, bounce_rate: 0.5, avg_session_ms: 1200 },
    series: [{ day: "2026-11-01", sessions: 1 }, "junk"],
    pages: [{ path: "/", views: 4, rage_clicks: 1 }],
    referrers: [{ name: "example.com", sessions: 2 }],
    frustration: { elements: [{ path: "/", selector: "#b", dead_clicks: 2 }] },
  });
  assert.equal(s.totals.page_views, 7);
  assert.deepEqual(s.series, [{ day: "2026-11-01", sessions: 1, visitors: 0, page_views: 0 }]);
  assert.equal(s.pages[0]?.rage_clicks, 1);
  assert.equal(s.pages[0]?.exits, 0);
  assert.deepEqual(s.countries, []);
  assert.equal(s.frustration.elements[0]?.dead_clicks, 2);
  assert.throws(() => parseStats({ series: [] }), /unexpected response/);

  const click = parseHeatmap(
    { path: "/", page_views: 2, elements: [{ selector: "#b", clicks: 5, x: 10, y: 20 }], points: [{ x: 8, y: 24, count: 5 }], snapshot: { session_id: "s", page: 1, ts: 99, width: 390, height: 844 } },
    "click",
  );
  assert.equal(click.kind, "click");
  assert.ok(click.kind === "click" && click.elements[0]?.clicks === 5 && click.points.length === 1);
  assert.deepEqual(click.snapshot, { session_id: "s", page: 1, ts: 99, width: 390, height: 844 });
  const scroll = parseHeatmap({ page_views: 4, depths: [{ percent: 50, reached: 2, share: 0.5 }], fold_px: 700, snapshot: null }, "scroll");
  assert.ok(scroll.kind === "scroll" && scroll.fold_px === 700 && scroll.depths[0]?.share === 0.5 && scroll.snapshot === null);
});

test("heat colours: transparent at 0, opacity strictly grows with intensity, red at the top", () => {
  assert.deepEqual(heatColor(0), [0, 0, 0, 0]);
  const alphas = [0.01, 0.2, 0.4, 0.6, 0.8, 1].map((t) => heatColor(t)[3]);
  for (let i = 1; i < alphas.length; i++) assert.ok((alphas[i] ?? 0) > (alphas[i - 1] ?? 0), String(alphas));
  const [r, g, b] = heatColor(1);
  assert.ok(r > 200 && g < 60 && b < 60);
  const [r0, , b0] = heatColor(0.05);
  assert.ok(b0 > r0); // cold is blue
  assert.deepEqual(heatColor(Number.NaN), [0, 0, 0, 0]);
  assert.deepEqual(heatColor(7), heatColor(1));
  const p = palette();
  assert.equal(p.length, 1024);
  const pixels = new Uint8ClampedArray([0, 0, 0, 255, 0, 0, 0, 0]);
  colorize(pixels, p);
  assert.deepEqual([...pixels.slice(0, 4)], heatColor(1));
  assert.deepEqual([...pixels.slice(4)], [0, 0, 0, 0]);
  assert.match(shareColor(1), /^rgba\(2\d\d, /);
});

test("anchoring: heat on the drawn element, its recorded position kept when inside it", () => {
  const box = { left: 100, top: 200, width: 120, height: 40 };
  const inside = anchorSpot(box, 110, 210);
  assert.equal(inside.x, 110);
  assert.equal(inside.y, 210);
  // Another layout: the recorded position is elsewhere, the heat goes to the element's centre.
  const moved = anchorSpot(box, 600, 30);
  assert.deepEqual([moved.x, moved.y], [160, 220]);
  assert.ok(moved.radius >= 14 && moved.radius <= 48);
  // Not found: the recorded position.
  const lost = anchorSpot(null, 600, 30);
  assert.deepEqual([lost.x, lost.y], [600, 30]);
  // Hover picks the innermost box.
  const outer = { left: 0, top: 0, width: 500, height: 500 };
  assert.equal(boxAt([outer, null, box], 150, 220), 2);
  assert.equal(boxAt([outer, null, box], 450, 450), 0);
  assert.equal(boxAt([outer], 501, 0), -1);
});

test("fitting: never enlarged, canvas within its limits", () => {
  assert.equal(fitScale(800, 1600), 0.5);
  assert.equal(fitScale(2000, 390), 1);
  assert.equal(fitScale(0, 390), 1);
  assert.equal(canvasScale(0.5, 2, 1000, 1000), 1);
  assert.equal(canvasScale(1, 1, 1000, 64_000), 0.25);
});

test("scroll bands: each depth down to the next, coloured by who reached it", () => {
  const depths = [100, 0, 50, 5].map((percent) => ({ percent, reached: 0, share: 1 - percent / 100 }));
  const bands = scrollBands(depths, 2000);
  assert.deepEqual(
    bands.map((b) => [b.top, b.bottom, b.percent, b.share]),
    [
      [0, 100, 0, 1],
      [100, 1000, 5, 0.95],
      [1000, 2000, 50, 0.5],
    ],
  );
  assert.equal(percentLabel(0.875), "88%");
  assert.equal(percentLabel(3), "100%");
});

test("days and numbers", () => {
  assert.equal(daySeconds("2026-11-02"), Date.UTC(2026, 10, 2) / 1000);
  assert.ok(Number.isNaN(daySeconds("nope")));
  const rows = validDays([{ day: "2026-11-02", sessions: 1, visitors: 1, page_views: 3 }, { day: "x", sessions: 9, visitors: 9, page_views: 9 }]);
  assert.deepEqual(seriesColumns(rows), [[Date.UTC(2026, 10, 2) / 1000], [1], [1], [3]]);
  assert.equal(formatCount(1234567.4), "1,234,567");
  assert.equal(formatRate(0.425), "43%");
  assert.equal(formatRate(0.0123), "1.2%");
  assert.equal(barWidth(5, 10), 50);
  assert.equal(barWidth(0, 10), 0);
  assert.equal(barWidth(1, 10_000), 1.5);
});
