// Where heat goes on the drawn page. Clicks are anchored to the element they
// hit (found again by its selector in the drawn page), so a page drawn at
// another layout still shows them on that element; the recorded mean position
// is kept when it falls inside the element as drawn. Pure maths on page px.
import type { Depth } from "./data";

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Spot {
  x: number;
  y: number;
  radius: number;
}

const MIN_RADIUS = 14;
const MAX_RADIUS = 48;
export const POINT_RADIUS = 16;

export function contains(box: Box, x: number, y: number): boolean {
  return x >= box.left && x <= box.left + box.width && y >= box.top && y <= box.top + box.height;
}

/** The heat spot of an element's clicks: on its drawn box when found, else at the recorded position. */
export function anchorSpot(box: Box | null, meanX: number, meanY: number): Spot {
  if (!box || box.width <= 0 || box.height <= 0) return { x: meanX, y: meanY, radius: POINT_RADIUS * 1.5 };
  const radius = Math.min(MAX_RADIUS, Math.max(MIN_RADIUS, Math.sqrt(box.width * box.height) / 2));
  if (contains(box, meanX, meanY)) return { x: meanX, y: meanY, radius };
  return { x: box.left + box.width / 2, y: box.top + box.height / 2, radius };
}

/** The smallest box holding the point (the innermost element under the pointer), or -1. */
export function boxAt(boxes: ReadonlyArray<Box | null>, x: number, y: number): number {
  let best = -1;
  let bestArea = Infinity;
  boxes.forEach((box, i) => {
    if (!box || !contains(box, x, y)) return;
    const area = box.width * box.height;
    if (area < bestArea) {
      best = i;
      bestArea = area;
    }
  });
  return best;
}

/** The scale that fits a page `width` px wide into `available` px (never enlarged). */
export function fitScale(available: number, width: number): number {
  if (!(width > 0) || !(available > 0)) return 1;
  return Math.min(1, available / width);
}

/** Canvas pixels per page px: sharp on screen, within the browser's canvas limits. */
export function canvasScale(scale: number, dpr: number, width: number, height: number, maxSide = 16_000): number {
  const want = scale * Math.max(1, dpr || 1);
  return Math.min(want, maxSide / Math.max(1, width), maxSide / Math.max(1, height));
}

export interface Band {
  top: number;
  bottom: number;
  percent: number;
  share: number;
}

/**
 * The scroll map's bands: depth `percent` of the page (its height as drawn)
 * down to the next listed depth, coloured by the share of page views that
 * reached at least `percent`.
 */
export function scrollBands(depths: ReadonlyArray<Depth>, pageHeight: number): Band[] {
  const sorted = [...depths].filter((d) => d.percent >= 0 && d.percent <= 100).sort((a, b) => a.percent - b.percent);
  const bands: Band[] = [];
  sorted.forEach((d, i) => {
    const next = sorted[i + 1]?.percent ?? 100;
    if (next <= d.percent) return;
    bands.push({ top: (d.percent / 100) * pageHeight, bottom: (next / 100) * pageHeight, percent: d.percent, share: d.share });
  });
  return bands;
}

/** A share as a whole percent for labels: "87%". */
export function percentLabel(share: number): string {
  const p = Math.round(Math.min(1, Math.max(0, share)) * 100);
  return `${p}%`;
}
