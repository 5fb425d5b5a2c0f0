// The overview's days on a time axis (uPlot counts seconds since the epoch, UTC). Pure.
import type { DayPoint } from "./data";

/** Seconds since the epoch of a "YYYY-MM-DD" day (UTC midnight), or NaN. */
export function daySeconds(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) ? ms / 1000 : NaN;
}

/** The days that can be placed on the time axis. */
export function validDays(series: ReadonlyArray<DayPoint>): DayPoint[] {
  return series.filter((p) => Number.isFinite(daySeconds(p.day)));
}

/** uPlot's columns: x (UTC seconds), sessions, visitors, page views. */
export function seriesColumns(rows: ReadonlyArray<DayPoint>): [number[], number[], number[], number[]] {
  return [
    rows.map((p) => daySeconds(p.day)),
    rows.map((p) => p.sessions),
    rows.map((p) => p.visitors),
    rows.map((p) => p.page_views),
  ];
}
