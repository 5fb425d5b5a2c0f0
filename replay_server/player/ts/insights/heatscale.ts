// The colours of heat: an intensity in [0, 1] becomes blue (few), green,
// yellow, red (most). Opacity grows strictly with intensity, so the most
// opaque pixel of a heat canvas is its hottest (the tests read it so), and
// cold areas leave the page readable beneath.

export type Rgba = [number, number, number, number];

const STOPS: ReadonlyArray<[number, [number, number, number]]> = [
  [0, [40, 60, 255]],
  [0.3, [0, 170, 255]],
  [0.5, [0, 215, 110]],
  [0.7, [255, 225, 0]],
  [0.85, [255, 130, 0]],
  [1, [230, 20, 20]],
];
const MIN_ALPHA = 0.18;
const MAX_ALPHA = 0.82;

function clamp01(t: number): number {
  return Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
}

/** The colour of intensity t; t <= 0 is fully transparent. */
export function heatColor(t: number): Rgba {
  const v = clamp01(t);
  if (v <= 0) return [0, 0, 0, 0];
  let i = 1;
  while (i < STOPS.length - 1 && (STOPS[i]?.[0] ?? 1) < v) i++;
  const [t0, c0] = STOPS[i - 1] ?? STOPS[0]!;
  const [t1, c1] = STOPS[i] ?? STOPS[STOPS.length - 1]!;
  const f = t1 > t0 ? (v - t0) / (t1 - t0) : 0;
  const mix = (a: number, b: number): number => Math.round(a + (b - a) * f);
  return [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2]), Math.round(255 * (MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * v))];
}

/** The 256 colours of alpha values 0..255, flat RGBA. */
export function palette(): Uint8ClampedArray {
  const out = new Uint8ClampedArray(256 * 4);
  for (let a = 0; a < 256; a++) out.set(heatColor(a / 255), a * 4);
  return out;
}

/**
 * Colour a grey intensity image: `pixels` (RGBA) holds the accumulated heat in
 * its alpha channel; each pixel becomes the palette's colour of that alpha.
 */
export function colorize(pixels: Uint8ClampedArray, colors: Uint8ClampedArray = palette()): void {
  for (let i = 0; i + 3 < pixels.length; i += 4) {
    const a = pixels[i + 3] ?? 0;
    const c = a * 4;
    pixels[i] = colors[c] ?? 0;
    pixels[i + 1] = colors[c + 1] ?? 0;
    pixels[i + 2] = colors[c + 2] ?? 0;
    pixels[i + 3] = colors[c + 3] ?? 0;
  }
}

/** The share of page views that reached a depth (0..1) as a band colour: red all, blue none. */
export function shareColor(share: number, alpha = 0.42): string {
  const [r, g, b] = heatColor(Math.max(0.001, clamp01(share)));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
