// Script-tag bootstrap and the public API `window.ReplayRecorder`.
//
//   <script src="https://REPLAY_HOST/recorder.js" data-site-key="pk_..." async></script>
//
// Optional attributes: data-endpoint (default: the script's origin), data-require-consent,
// data-debug. Nothing here may throw into the host page.

import { Controller, type RecorderOptions } from "./controller";
import { attempt, debug, listen, safe, setDebug } from "./log";

export interface ReplayRecorderApi {
  start(): void;
  stop(): void;
  consent(): void;
  optOut(): void;
  optIn(): void;
  sessionId(): string | null;
}

declare global {
  interface Window {
    ReplayRecorder?: ReplayRecorderApi;
  }
}

const OPT_OUT_HASH = "#rs-opt-out";
const SITE_KEY_RE = /^pk_[A-Za-z0-9_-]{22,43}$/;

function findScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.hasAttribute("data-site-key")) return current;
  return document.querySelector<HTMLScriptElement>("script[data-site-key][src]");
}

/** The endpoint without a trailing slash: data-endpoint, else the origin of the script's src. */
function endpointOf(script: HTMLScriptElement): string | null {
  const raw = script.getAttribute("data-endpoint") || new URL(script.src, location.href).origin;
  const url = new URL(raw, location.href);
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  return (url.origin + url.pathname).replace(/\/+$/, "");
}

function readOptions(script: HTMLScriptElement): RecorderOptions | null {
  const siteKey = (script.getAttribute("data-site-key") || "").trim();
  if (!SITE_KEY_RE.test(siteKey)) {
    debug("invalid data-site-key");
    return null;
  }
  const endpoint = endpointOf(script);
  if (!endpoint) return null;
  return {
    siteKey,
    endpoint,
    requireConsent: script.hasAttribute("data-require-consent"),
    honorDnt: !script.hasAttribute("data-ignore-dnt"),
  };
}

function makeApi(c: Controller): ReplayRecorderApi {
  return {
    start: safe("start", () => c.start()),
    stop: safe("stop", () => c.stop()),
    consent: safe("consent", () => c.consent()),
    optOut: safe("optOut", () => c.optOut()),
    optIn: safe("optIn", () => c.optIn()),
    sessionId: () => attempt("sessionId", () => c.sessionId(), null),
  };
}

/** The opt-out page (`GET /opt-out` on the replay server) links to the site with
 * `#rs-opt-out`: opt out before anything is recorded, then drop the fragment. */
function optOutByLink(c: Controller): void {
  if (location.hash !== OPT_OUT_HASH) return;
  c.optOut();
  const url = location.pathname + location.search;
  attempt("clear opt-out hash", () => history.replaceState(history.state, "", url), undefined);
}

function boot(): void {
  if (window.ReplayRecorder) return; // included twice: the first copy records
  const script = findScript();
  if (!script) return;
  setDebug(script.hasAttribute("data-debug"));
  const opts = readOptions(script);
  if (!opts) return;
  const controller = new Controller(opts);
  window.ReplayRecorder = makeApi(controller);
  optOutByLink(controller);
  if ((document as { prerendering?: boolean }).prerendering === true) {
    // a prerendered page is not seen yet: record once it is activated
    const off = listen(document, "prerenderingchange", () => {
      off();
      controller.start();
    });
  } else controller.start();
}

attempt("boot", boot, undefined);
