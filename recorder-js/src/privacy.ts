// Privacy gates, checked before any network connection or cookie:
// Do Not Track / Global Privacy Control, a persisted opt-out, and optional consent.

import { getCookie, local, session, setCookie } from "./storage";

const K_OPTOUT = "_rs_optout";
const K_CONSENT = "_rs_consent";

interface PrivacySignals {
  doNotTrack?: string | null;
  globalPrivacyControl?: boolean;
}

/** Do Not Track or Global Privacy Control is on. */
export function browserSaysNo(): boolean {
  try {
    const nav = navigator as PrivacySignals;
    const win = window as PrivacySignals;
    return nav.doNotTrack === "1" || win.doNotTrack === "1" || nav.globalPrivacyControl === true;
  } catch {
    return true; // when in doubt, do not record
  }
}

export function isOptedOut(): boolean {
  return local.get(K_OPTOUT) === "1" || getCookie(K_OPTOUT) === "1";
}

export function setOptedOut(out: boolean): void {
  if (out) {
    local.set(K_OPTOUT, "1");
    setCookie(K_OPTOUT, "1");
  } else {
    local.remove(K_OPTOUT);
    setCookie(K_OPTOUT, "", 0);
  }
}

export function hasConsent(): boolean {
  return session.get(K_CONSENT) === "1";
}

export function giveConsent(): void {
  session.set(K_CONSENT, "1");
}

export function clearConsent(): void {
  session.remove(K_CONSENT);
}
