// The sessions / visitors / page views chart of the overview (uPlot, bundled).
// A day of the chart opens the sessions of that day.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { el } from "../dom";
import type { DayPoint, Totals } from "./data";
import { formatCount } from "./numbers";
import { seriesColumns, validDays } from "./days";

const DAY_SECONDS = 86_400;

export class SeriesChart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver | null;

  private readonly series: DayPoint[];

  constructor(
    series: ReadonlyArray<DayPoint>,
    private readonly totals: Pick<Totals, "sessions" | "visitors" | "page_views">,
    private readonly onDay: (day: string) => void,
  ) {
    this.series = validDays(series);
    this.element = el("div", { className: "series-chart", attrs: { role: "img", "aria-label": describe(series) } });
    this.observer = typeof ResizeObserver === "function" ? new ResizeObserver(() => this.resize()) : null;
  }

  /** Draw once the element is in the document (uPlot measures it). */
  mount(): void {
    const width = Math.max(280, this.element.clientWidth);
    const opts: uPlot.Options = {
      width,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max * 1.1)] } },
      axes: [
        { stroke: "#5b6576", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e1e4e9" }, space: 60 },
        { stroke: "#5b6576", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e1e4e9" }, values: (_u, ticks) => ticks.map((t) => formatCount(t)), size: 56 },
      ],
      series: [
        { label: "Day", value: (_u, v) => (v == null ? "the whole range" : new Date(v * 1000).toISOString().slice(0, 10)) },
        { label: "Sessions", stroke: "#2d5bd0", fill: "rgba(45, 91, 208, 0.14)", width: 2, value: legendValue(this.totals.sessions) },
        { label: "Visitors", stroke: "#0f9d77", width: 2, value: legendValue(this.totals.visitors) },
        { label: "Page views", stroke: "#d97a1e", width: 2, dash: [5, 4], value: legendValue(this.totals.page_views) },
      ],
    };
    const data = seriesColumns(this.series);
    // A single day still gets a visible span.
    if (data[0].length === 1) opts.scales = { ...opts.scales, x: { time: true, range: (_u, min) => [min - DAY_SECONDS / 2, min + DAY_SECONDS / 2] } };
    this.plot = new uPlot(opts, data, this.element);
    this.plot.over.addEventListener("click", () => {
      const idx = this.plot?.cursor.idx;
      const point = idx == null ? undefined : this.series[idx];
      if (point) this.onDay(point.day);
    });
    this.plot.over.title = "Click a day for its sessions";
    if (this.observer) this.observer.observe(this.element);
  }

  private resize(): void {
    if (!this.plot) return;
    const width = Math.max(280, this.element.clientWidth);
    if (Math.abs(width - this.plot.width) > 2) this.plot.setSize({ width, height: 240 });
  }
}

/** The legend: the day's figure under the cursor, else the range's total. */
function legendValue(total: number): (u: uPlot, v: number | null) => string {
  return (_u, v) => formatCount(v == null ? total : v);
}

function describe(series: ReadonlyArray<DayPoint>): string {
  const total = series.reduce((s, p) => s + p.sessions, 0);
  const first = series[0]?.day ?? "";
  const last = series[series.length - 1]?.day ?? "";
  return `Sessions, visitors and page views per day from ${first} to ${last}: ${formatCount(total)} sessions in all.`;
}
