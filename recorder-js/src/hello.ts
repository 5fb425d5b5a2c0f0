// The hello message: who is recording what (no PII beyond what the page itself shows).

import type { Hello } from "./config";

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

export function buildHello(site: string, sid: string, vid: string, page: number): Hello {
  return {
    t: "hello",
    v: 1,
    site,
    sid,
    vid,
    page,
    url: location.href,
    referrer: referrer(),
    title: document.title || "",
    viewport: [window.innerWidth || 0, window.innerHeight || 0],
    screen: [window.screen ? screen.width : 0, window.screen ? screen.height : 0],
    lang: navigator.language || "",
    tz: timeZone(),
    clock: Date.now(),
  };
}
