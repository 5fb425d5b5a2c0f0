// The control bar: play/pause, time, scrubber, speed, skip inactivity (on by
// default), share link, full screen. A slot at the end is left for other tools.
import { el, icon, ICONS } from "./dom";
import { formatClock } from "./format";
import { Scrubber, type SeekHandlers } from "./timeline";

export const SPEEDS = [0.5, 1, 2, 4, 8] as const;

export type PlayState = "paused" | "playing" | "ended";

export interface ControlHandlers extends SeekHandlers {
  onTogglePlay(): void;
  onSpeed(speed: number): void;
  onSkipInactive(skip: boolean): void;
  onCopyLink(): void;
  onFullscreen(): void;
}

export class Controls {
  readonly element: HTMLDivElement;
  readonly scrubber: Scrubber;
  private readonly playButton: HTMLButtonElement;
  private readonly time: HTMLSpanElement;
  private readonly status: HTMLSpanElement;
  private readonly linkBox: HTMLInputElement;
  private readonly speed: HTMLSelectElement;
  private readonly live: HTMLSpanElement;
  /** Where other features add their buttons (e.g. export). */
  readonly tools: HTMLSpanElement;
  private state: PlayState | null = null;
  private shownTime = "";
  private statusTimer = 0;

  constructor(handlers: ControlHandlers) {
    this.scrubber = new Scrubber(handlers);

    this.playButton = el("button", { className: "btn btn-play", attrs: { type: "button" } });
    this.playButton.addEventListener("click", () => handlers.onTogglePlay());

    this.time = el("span", { className: "time", attrs: { "aria-live": "off" } });

    const speed = el("select", { className: "select", attrs: { "aria-label": "Playback speed", title: "Speed (keys 1–4)" } });
    this.speed = speed;
    for (const s of SPEEDS) {
      const option = el("option", { text: `${s}×`, attrs: { value: String(s) } });
      if (s === 1) option.selected = true;
      speed.appendChild(option);
    }
    speed.addEventListener("change", () => handlers.onSpeed(Number(speed.value)));

    const skip = el("input", { attrs: { type: "checkbox", "data-role": "skip" } });
    skip.checked = true;
    skip.addEventListener("change", () => handlers.onSkipInactive(skip.checked));
    const skipLabel = el("label", { className: "toggle", attrs: { title: "Fast-forward through stretches with no activity" } }, [
      skip,
      el("span", { text: "Skip inactivity" }),
    ]);

    const copy = el("button", { className: "btn", attrs: { type: "button", title: "Copy a link to this moment of the replay" } }, [
      icon(ICONS.link),
      el("span", { text: "Copy link at current time" }),
    ]);
    copy.addEventListener("click", () => handlers.onCopyLink());

    const full = el("button", { className: "btn btn-quiet", attrs: { type: "button", title: "Full screen (f)", "aria-label": "Full screen" } }, [
      icon(ICONS.fullscreen),
    ]);
    full.addEventListener("click", () => handlers.onFullscreen());
    this.live = el("span", { className: "badge badge-live", text: "Live", attrs: { hidden: "", title: "Following the session as it is recorded" } });
    this.tools = el("span", { className: "controls-tools" });

    this.status = el("span", { className: "status", attrs: { role: "status" } });
    this.linkBox = el("input", {
      className: "link-box",
      attrs: { type: "text", readonly: "", "aria-label": "Link to this moment", hidden: "" },
    });
    this.linkBox.addEventListener("focus", () => this.linkBox.select());
    this.linkBox.addEventListener("blur", () => {
      this.linkBox.hidden = true;
    });

    this.element = el("div", { className: "controls" }, [
      this.scrubber.element,
      el("div", { className: "controls-row" }, [
        this.playButton,
        this.time,
        this.live,
        el("span", { className: "spacer" }),
        this.status,
        this.linkBox,
        skipLabel,
        speed,
        copy,
        this.tools,
        full,
      ]),
    ]);
    this.setState("paused");
  }

  setState(state: PlayState): void {
    if (state === this.state) return;
    this.state = state;
    this.playButton.textContent = "";
    const [path, label] =
      state === "playing" ? [ICONS.pause, "Pause"] : state === "ended" ? [ICONS.replay, "Replay"] : [ICONS.play, "Play"];
    this.playButton.appendChild(icon(path));
    this.playButton.setAttribute("aria-label", label);
    this.playButton.title = `${label} (space)`;
  }

  setTime(currentMs: number, totalMs: number): void {
    const text = `${formatClock(Math.min(currentMs, totalMs))} / ${formatClock(totalMs)}`;
    if (text !== this.shownTime) {
      this.shownTime = text;
      this.time.textContent = text;
    }
    this.scrubber.setTime(currentMs);
  }

  /** A short message next to the buttons, e.g. "Link copied". */
  flash(message: string, ms = 2500): void {
    this.status.textContent = message;
    window.clearTimeout(this.statusTimer);
    this.statusTimer = window.setTimeout(() => {
      this.status.textContent = "";
    }, ms);
  }

  /** When the clipboard is unavailable: show the link, selected, for the user to copy. */
  showLink(url: string): void {
    this.linkBox.value = url;
    this.linkBox.hidden = false;
    this.linkBox.focus();
    this.linkBox.select();
  }

  /** Select a speed from the list (keyboard 1-4). */
  setSpeed(speed: number): void {
    this.speed.value = String(speed);
  }

  /** LIVE: the timeline follows the recording; play/seek controls wait for the end. */
  setLive(live: boolean): void {
    this.live.hidden = !live;
    this.element.classList.toggle("is-live", live);
  }

  setSkipping(skipping: boolean): void {
    this.element.classList.toggle("is-skipping", skipping);
    if (skipping) this.flash("Skipping inactivity…", 1500);
  }
}
