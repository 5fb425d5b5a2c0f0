// The heatmap's stage: the drawn page scaled to fit the available width at
// its full height (the stage scrolls), with the heat canvas and the hover
// outline and labels laid over it in the same page coordinates.
import { el } from "../dom";
import { fitScale, type Box } from "./geometry";

export class Stage {
  readonly element: HTMLDivElement;
  /** rrweb's Replayer draws into this (page px, scaled by CSS). */
  readonly page: HTMLDivElement;
  readonly sizer: HTMLDivElement;
  readonly overlay: HTMLDivElement;
  private readonly outline: HTMLDivElement;
  private readonly tip: HTMLDivElement;
  scale = 1;
  private width = 0;
  private height = 0;

  constructor() {
    this.page = el("div", { className: "heat-page" });
    this.overlay = el("div", { className: "heat-overlay" });
    this.outline = el("div", { className: "heat-outline", attrs: { hidden: "" } });
    this.tip = el("div", { className: "heat-tip", attrs: { hidden: "", role: "status" } });
    this.sizer = el("div", { className: "heat-sizer" }, [this.page, this.overlay, this.outline, this.tip]);
    this.element = el("div", { className: "heat-stage", attrs: { tabindex: "0", "aria-label": "The page with its heat; scroll to see all of it" } }, [this.sizer]);
  }

  /** Size everything for a page of width x height page px, fitting the stage's width. */
  fit(width: number, height: number): number {
    this.width = width;
    this.height = height;
    const style = getComputedStyle(this.element);
    const avail = this.element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    this.scale = fitScale(avail, width);
    const s = this.scale;
    this.sizer.style.width = `${Math.round(width * s)}px`;
    this.sizer.style.height = `${Math.round(height * s)}px`;
    this.page.style.width = `${width}px`;
    this.page.style.height = `${height}px`;
    this.page.style.transform = `scale(${s})`;
    this.sizer.dataset.scale = String(s);
    return s;
  }

  refit(): void {
    if (this.width) this.fit(this.width, this.height);
  }

  /** Page px of a pointer event over the stage. */
  pagePoint(e: MouseEvent): { x: number; y: number } {
    const r = this.sizer.getBoundingClientRect();
    return { x: (e.clientX - r.left) / this.scale, y: (e.clientY - r.top) / this.scale };
  }

  highlight(box: Box | null, label: ReadonlyArray<string> = []): void {
    if (!box) {
      this.outline.hidden = true;
      this.tip.hidden = true;
      return;
    }
    const s = this.scale;
    const o = this.outline.style;
    o.left = `${box.left * s}px`;
    o.top = `${box.top * s}px`;
    o.width = `${box.width * s}px`;
    o.height = `${box.height * s}px`;
    this.outline.hidden = false;
    this.tip.replaceChildren(...label.map((line, i) => el(i === 0 ? "strong" : "span", { text: line })));
    this.tip.hidden = label.length === 0;
    const t = this.tip.style;
    t.left = `${Math.max(0, box.left * s)}px`;
    t.top = `${(box.top + box.height) * s + 6}px`;
  }

  /** A tip at a page point (the scroll map's depth under the pointer), no outline. */
  tipAt(x: number, y: number, lines: ReadonlyArray<string>): void {
    this.outline.hidden = true;
    this.tip.replaceChildren(...lines.map((line, i) => el(i === 0 ? "strong" : "span", { text: line })));
    this.tip.hidden = lines.length === 0;
    this.tip.style.left = `${x * this.scale + 12}px`;
    this.tip.style.top = `${y * this.scale + 12}px`;
  }

  /** A text label over the page at page y (scroll depths, the fold). */
  label(y: number, text: string, className: string): void {
    const node = el("span", { className: `heat-label ${className}`, text });
    node.style.top = `${(y / Math.max(1, this.height)) * 100}%`;
    this.overlay.appendChild(node);
  }
}
