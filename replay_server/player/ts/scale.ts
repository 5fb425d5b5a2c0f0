// Fit the replay (an iframe of the recorded viewport's size) into the stage,
// keeping its aspect ratio, with a CSS transform on rrweb's wrapper.

export class Fitter {
  private readonly stage: HTMLElement;
  private readonly wrapper: HTMLElement;
  private width = 0;
  private height = 0;
  private readonly observer: ResizeObserver | null;
  private readonly onFit: (scale: number) => void;

  constructor(stage: HTMLElement, wrapper: HTMLElement, onFit: (scale: number) => void) {
    this.stage = stage;
    this.wrapper = wrapper;
    this.onFit = onFit;
    this.observer = typeof ResizeObserver === "function" ? new ResizeObserver(() => this.fit()) : null;
    if (this.observer) this.observer.observe(stage);
    else window.addEventListener("resize", () => this.fit());
  }

  /** The recorded viewport changed (rrweb's `resize` event). */
  setSize(width: number, height: number): void {
    if (!(width > 0 && height > 0)) return;
    this.width = width;
    this.height = height;
    this.fit();
  }

  get size(): [number, number] | null {
    return this.width > 0 ? [this.width, this.height] : null;
  }

  fit(): void {
    if (!this.width) return;
    const style = getComputedStyle(this.stage);
    const padX = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const padY = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    const availW = Math.max(0, this.stage.clientWidth - padX);
    const availH = Math.max(0, this.stage.clientHeight - padY);
    // Shrink to fit; never enlarge past 1:1, small viewports stay crisp.
    const scale = Math.min(availW / this.width, availH / this.height, 1);
    const left = parseFloat(style.paddingLeft) + (availW - this.width * scale) / 2;
    const top = parseFloat(style.paddingTop) + (availH - this.height * scale) / 2;
    const w = this.wrapper.style;
    w.width = `${this.width}px`;
    w.height = `${this.height}px`;
    w.left = `${Math.round(left)}px`;
    w.top = `${Math.round(top)}px`;
    w.transform = `scale(${scale})`;
    this.onFit(scale);
  }
}
