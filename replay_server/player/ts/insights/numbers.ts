// Numbers as the insights pages print them. Pure.

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return whole.format(Math.round(Number.isFinite(n) ? n : 0));
}

/** A ratio 0..1 as "42.5%" (one decimal below 10%, whole above). */
export function formatRate(r: number): string {
  const p = Math.max(0, Number.isFinite(r) ? r : 0) * 100;
  return p > 0 && p < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** Width of a bar in percent of the largest value of its list (at least a sliver when > 0). */
export function barWidth(value: number, max: number): number {
  if (!(value > 0) || !(max > 0)) return 0;
  return Math.max(1.5, Math.min(100, (value / max) * 100));
}
