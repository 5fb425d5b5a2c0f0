// The player's skeleton inside #player: address bar, stage, controls slot,
// side panel; and the overlay that shows loading progress and errors.
import { clear, el } from "./dom";
import type { PageMark } from "./pages";
import { formatSize } from "./format";

export class Layout {
  readonly main: HTMLDivElement;
  readonly stage: HTMLDivElement;
  readonly side: HTMLElement;
  private readonly overlay: HTMLDivElement;
  private readonly pageIndex: HTMLSpanElement;
  private readonly pageTitle: HTMLSpanElement;
  private readonly pageUrl: HTMLSpanElement;
  private readonly viewport: HTMLSpanElement;
  private readonly badges: HTMLSpanElement;
  private readonly address: HTMLDivElement;
  readonly root: HTMLElement;
  private readonly pagesSection: HTMLElement;
  private readonly eventsSection: HTMLElement;
  private readonly detailsSection: HTMLElement;
  private readonly notices: HTMLUListElement;
  private readonly shownNotices = new Set<string>();

  constructor(root: HTMLElement) {
    this.pageIndex = el("span", { className: "addr-index" });
    this.pageTitle = el("span", { className: "addr-title" });
    this.pageUrl = el("span", { className: "addr-url" });
    this.viewport = el("span", { className: "addr-viewport", attrs: { title: "Recorded viewport and zoom" } });
    this.badges = el("span", { className: "addr-badges" });
    this.root = root;
    const address = el("div", { className: "addr", attrs: { hidden: "" } }, [
      this.pageIndex,
      el("span", { className: "addr-text" }, [this.pageTitle, this.pageUrl]),
      this.badges,
      this.viewport,
    ]);
    this.overlay = el("div", { className: "overlay", attrs: { role: "status" } });
    this.stage = el("div", { className: "stage" }, [this.overlay]);
    this.address = address;
    this.notices = el("ul", { className: "notices", attrs: { role: "status", "aria-label": "Notices", hidden: "" } });
    this.main = el("div", { className: "player-main" }, [address, this.notices, this.stage]);
    this.pagesSection = el("section", { className: "side-section", attrs: { hidden: "" } });
    this.eventsSection = el("section", { className: "side-section side-events", attrs: { hidden: "" } });
    this.detailsSection = el("section", { className: "side-section", attrs: { hidden: "" } });
    this.side = el("aside", { className: "player-side", attrs: { "aria-label": "Session" } }, [
      this.pagesSection,
      this.eventsSection,
      this.detailsSection,
    ]);
    clear(root);
    root.classList.add("player", "no-side");
    root.appendChild(this.main);
    root.appendChild(this.side);
  }

  setPages(list: HTMLElement, count: number): void {
    this.fill(this.pagesSection, "Pages", list, String(count));
  }

  setEvents(list: HTMLElement, count: number): void {
    this.fill(this.eventsSection, "Events", el("div", { className: "event-scroll" }, [list]), String(count));
  }

  /** Update the number beside "Events" as a live session grows. */
  setEventCount(count: number): void {
    const note = this.eventsSection.querySelector(".side-note");
    if (note) note.textContent = String(count);
  }

  /** A non-blocking message above the replay (missing parts of the recording). */
  addNotice(message: string): void {
    if (this.shownNotices.has(message)) return;
    this.shownNotices.add(message);
    this.notices.appendChild(el("li", { className: "notice", text: message }));
    this.notices.hidden = false;
  }

  setDetails(details: HTMLElement): void {
    this.fill(this.detailsSection, "Details", details);
  }

  private fill(section: HTMLElement, title: string, content: HTMLElement, note?: string): void {
    clear(section);
    section.appendChild(
      el("h2", { className: "side-title", text: title }, [note ? el("span", { className: "side-note", text: note }) : null]),
    );
    section.appendChild(content);
    section.hidden = false;
    this.root.classList.remove("no-side");
  }

  showLoading(message: string, detail = ""): void {
    this.overlay.className = "overlay is-loading";
    this.overlay.setAttribute("role", "status");
    clear(this.overlay);
    this.overlay.appendChild(
      el("div", { className: "overlay-box" }, [
        el("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
        el("p", { className: "overlay-title", text: message }),
        detail ? el("p", { className: "overlay-detail", text: detail }) : null,
      ]),
    );
    this.overlay.hidden = false;
  }

  showError(message: string, detail = ""): void {
    this.overlay.className = "overlay is-error";
    this.overlay.setAttribute("role", "alert");
    clear(this.overlay);
    this.overlay.appendChild(
      el("div", { className: "overlay-box" }, [
        el("p", { className: "overlay-title", text: "This replay could not be shown" }),
        el("p", { className: "overlay-message", text: message }),
        detail ? el("p", { className: "overlay-detail", text: detail }) : null,
      ]),
    );
    this.overlay.hidden = false;
  }

  hideOverlay(): void {
    this.overlay.hidden = true;
    clear(this.overlay);
  }

  setPage(mark: PageMark | undefined, index: number, count: number): void {
    this.address.hidden = false;
    this.pageIndex.textContent = count > 0 ? `Page ${index + 1} of ${count}` : "";
    const title = mark ? mark.page.title.trim() : "";
    this.pageTitle.textContent = title;
    this.pageTitle.hidden = title === "";
    this.pageUrl.textContent = mark ? mark.page.url : "";
    this.pageUrl.title = mark ? mark.page.url : "";
  }

  setViewport(size: [number, number] | null, scalePercent: number | null): void {
    const parts = [formatSize(size)];
    if (scalePercent !== null && scalePercent < 100) parts.push(`${scalePercent}%`);
    this.viewport.textContent = parts.filter((p) => p).join(" · ");
  }

  addBadge(text: string, className: string, title: string): void {
    this.badges.appendChild(el("span", { className: `badge ${className}`, text, attrs: { title } }));
  }
}
