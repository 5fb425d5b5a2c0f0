// The <canvas> laid over the drawn page: click heat (blobs accumulated as
// grey alpha, then coloured by heatscale.ts) or the scroll map's depth bands
// and fold line. Coordinates in are page px; the canvas holds `scale` canvas
// pixels per page px (data-scale, for whoever reads its pixels).
import { colorize, palette, shareColor } from "./heatscale";
import type { Band, Spot } from "./geometry";

export interface WeightedSpot extends Spot {
  /** 0..1: the share of the hottest spot's clicks. */
  weight: number;
}

export class HeatCanvas {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    width: number,
    private readonly height: number,
    private readonly scale: number,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "heat-canvas";
    this.canvas.width = Math.max(1, Math.round(width * scale));
    this.canvas.height = Math.max(1, Math.round(height * scale));
    this.canvas.dataset.scale = String(scale);
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) throw new Error("This browser cannot draw on a canvas.");
    this.ctx = ctx;
  }

  /** Click heat: each spot a soft disc of its weight; overlaps add up (alpha compositing) to the hottest. */
  drawClicks(spots: ReadonlyArray<WeightedSpot>): void {
    const { ctx, scale } = this;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (const s of spots) {
      if (!(s.weight > 0)) continue;
      const x = s.x * scale;
      const y = s.y * scale;
      const r = Math.max(2, s.radius * scale);
      const g = ctx.createRadialGradient(x, y, 0, x, y, r);
      g.addColorStop(0, `rgba(0, 0, 0, ${Math.min(1, s.weight)})`);
      g.addColorStop(1, "rgba(0, 0, 0, 0)");
      ctx.fillStyle = g;
      ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
    }
    const image = ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    colorize(image.data, palette());
    ctx.putImageData(image, 0, 0);
    this.canvas.dataset.kind = "click";
  }

  /** Scroll map: one band per depth coloured by the share that reached it, and the average fold. */
  drawScroll(bands: ReadonlyArray<Band>, foldPx: number): void {
    const { ctx, scale } = this;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (const b of bands) {
      ctx.fillStyle = shareColor(b.share);
      const top = Math.round(b.top * scale);
      ctx.fillRect(0, top, this.canvas.width, Math.max(1, Math.round(b.bottom * scale) - top));
    }
    if (foldPx > 0 && foldPx < this.height) {
      const y = Math.round(foldPx * scale) + 0.5;
      ctx.strokeStyle = "rgba(20, 24, 36, 0.9)";
      ctx.lineWidth = Math.max(1, 2 * scale);
      ctx.setLineDash([8 * scale, 6 * scale]);
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(this.canvas.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    this.canvas.dataset.kind = "scroll";
  }
}
