// Small helpers shared by the replay and live views.
import { ApiError } from "./api";

export function message(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return `Unexpected error: ${err.message}`;
  return "Unexpected error.";
}

/** `?t=SECONDS` of the page URL, as ms, or null. */
export function requestedTime(): number | null {
  const raw = new URLSearchParams(window.location.search).get("t");
  if (raw === null || raw.trim() === "") return null;
  const seconds = Number(raw);
  return Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : null;
}

/** Whether a key press belongs to a control (typing, a button, a select) rather than to the player. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement && target.type === "range") return false;
  return target.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName);
}

/** Toggle full screen for the player. */
export function requestFullscreen(element: HTMLElement): void {
  if (document.fullscreenElement) {
    void document.exitFullscreen().catch(() => undefined);
  } else if (typeof element.requestFullscreen === "function") {
    void element.requestFullscreen().catch(() => undefined);
  }
}
