// Debug logging and the "never throw into the host page" wrappers.
// Every callback that the browser or the host page can invoke goes through safe().

let debugEnabled = false;

export function setDebug(on: boolean): void {
  debugEnabled = on;
}

export function debug(...args: unknown[]): void {
  if (!debugEnabled) return;
  try {
    console.debug("[replay-recorder]", ...args);
  } catch {
    // console may be missing or patched by the host page
  }
}

/** Wrap a callback so that it never throws; errors are swallowed (and logged in debug mode). */
export function safe<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      debug(where, err);
    }
  };
}

/** Run fn now, swallowing errors; returns its result or `fallback`. */
export function attempt<T>(where: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    debug(where, err);
    return fallback;
  }
}

/** setTimeout with a safe callback; returns the timer id. */
export function later(where: string, ms: number, fn: () => void): number {
  return window.setTimeout(safe(where, fn), ms);
}

/** Add an event listener with a safe callback; returns a function removing it. */
export function listen<K extends keyof WindowEventMap>(
  target: Window,
  type: K,
  fn: (ev: WindowEventMap[K]) => void,
  capture?: boolean,
): () => void;
export function listen(target: Document, type: "visibilitychange" | "DOMContentLoaded" | "prerenderingchange", fn: (ev: Event) => void, capture?: boolean): () => void;
export function listen(target: Window | Document, type: string, fn: (ev: Event) => void, capture = true): () => void {
  const handler = safe(`on ${type}`, fn);
  target.addEventListener(type, handler, capture);
  return (): void => {
    try {
      target.removeEventListener(type, handler, capture);
    } catch {
      // ignore
    }
  };
}
