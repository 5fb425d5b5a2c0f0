// Uncaught errors and unhandled promise rejections of the host page, reduced to
// {message, source} (no stack, no argument values) for an rrweb custom event "error".

import { listen } from "./log";

export interface ErrorPayload {
  message: string;
  source: string;
}

const MAX_MESSAGE = 500;

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? s.slice(0, MAX_MESSAGE) : s;
}

function reasonMessage(reason: unknown): string {
  if (reason instanceof Error) return String(reason.message);
  if (typeof reason === "string") return reason;
  if (reason === null || reason === undefined) return String(reason);
  return `unhandled rejection (${typeof reason})`;
}

/** Listen to `error` and `unhandledrejection`; returns a function removing the listeners. */
export function captureErrors(report: (p: ErrorPayload) => void): () => void {
  const offError = listen(window, "error", (ev: ErrorEvent) => {
    // resource load errors (img, script) reach capturing listeners as plain Events: skip them
    if (!(ev instanceof ErrorEvent)) return;
    const source = ev.filename ? `${ev.filename}:${ev.lineno || 0}` : "";
    report({ message: clip(String(ev.message || "Error")), source });
  });
  const offRejection = listen(window, "unhandledrejection", (ev: PromiseRejectionEvent) => {
    report({ message: clip(reasonMessage(ev.reason)), source: "unhandledrejection" });
  });
  return (): void => {
    offError();
    offRejection();
  };
}
