// The hello message: who is recording what (no PII beyond what the page itself shows).

import type { Hello } from "./config";
import { redactEmails, redactUrl, type UrlLists } from "./urls";

function timeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

/** The server accepts only http(s) referrers (an app referrer such as android-app://... is dropped). */
function referrer(): string {
  const r = document.referrer || "";
  return /^https?:\/\//i.test(r) ? r : "";
}

/** `lists`: the site's URL parameter lists when known (a config from an earlier page). */
export function buildHello(site: string, sid: string, vid: string, page: number, lists: UrlLists | null = null): Hello {
  return {
    t: "hello",
    v: 1,
    site,
    sid,
    vid,
    page,
    url: redactUrl(location.href, lists),
    referrer: redactUrl(referrer(), lists),
    title: redactEmails(document.title || ""), // "Account of jane@example.org"
    viewport: [window.innerWidth || 0, window.innerHeight || 0],
    screen: [window.screen ? screen.width : 0, window.screen ? screen.height : 0],
    lang: navigator.language || "",
    tz: timeZone(),
    clock: Date.now(),
  };
}
