// Visitor and session identity (no PII): vid cookie, sid + page + seq counters in sessionStorage.

import { getCookie, session, setCookie } from "./storage";

export const SESSION_IDLE_MS = 30 * 60 * 1000;
const ACTIVITY_PERSIST_MS = 5000;

const K_VID = "_rs_vid";
const K_SID = "_rs_sid";
const K_LAST = "_rs_last";
const K_PAGE = "_rs_page";
const K_SEQ = "_rs_seq";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuid(s: string | null): s is string {
  return s !== null && UUID_RE.test(s);
}

/** Random UUID v4: crypto.randomUUID (secure contexts only), else crypto.getRandomValues. */
export function uuid4(): string {
  const c: Crypto | undefined = typeof crypto !== "undefined" ? crypto : undefined;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  let h = "";
  for (let i = 0; i < 16; i++) h += ((b[i] ?? 0) + 0x100).toString(16).slice(1);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Visitor id from the `_rs_vid` cookie (renewed for a year at each page load). */
export function visitorId(): string {
  let vid = getCookie(K_VID);
  if (!isUuid(vid)) {
    // cookies may be disabled: keep the id for the tab at least
    const kept = session.get(K_VID);
    vid = isUuid(kept) ? kept : uuid4();
  }
  setCookie(K_VID, vid);
  if (getCookie(K_VID) !== vid) session.set(K_VID, vid);
  return vid;
}

function readInt(key: string): number | null {
  const raw = session.get(key);
  if (raw === null || !/^\d{1,15}$/.test(raw)) return null;
  return Number(raw);
}

export interface PageIdentity {
  sid: string;
  page: number;
  /** true when this page load started a new session */
  fresh: boolean;
}

/** Session bookkeeping for one page view. */
export class SessionClock {
  private lastActivity = 0;
  private lastPersisted = 0;

  /** Called at each page start: renews the session after 30 min idle, allocates the page index. */
  beginPage(now: number): PageIdentity {
    let sid = session.get(K_SID);
    const last = readInt(K_LAST);
    const fresh = !isUuid(sid) || last === null || now - last > SESSION_IDLE_MS;
    if (fresh || !isUuid(sid)) {
      sid = uuid4();
      session.set(K_SID, sid);
      session.set(K_SEQ, "0");
      session.set(K_PAGE, "0");
    }
    const page = readInt(K_PAGE) ?? 0;
    session.set(K_PAGE, String(page + 1));
    this.touch(now, true);
    return { sid, page, fresh };
  }

  /** Next batch seq, read from and written back to sessionStorage so that it is shared by every
   * page of the tab (a page restored from the back/forward cache continues after the later page). */
  nextSeq(): number {
    const seq = readInt(K_SEQ) ?? 0;
    session.set(K_SEQ, String(seq + 1));
    return seq;
  }

  /** Record user activity (throttled writes to storage). */
  touch(now: number, force = false): void {
    this.lastActivity = now;
    if (force || now - this.lastPersisted >= ACTIVITY_PERSIST_MS) {
      this.lastPersisted = now;
      session.set(K_LAST, String(now));
    }
  }

  /** True when the session has been idle for longer than 30 minutes. */
  expired(now: number): boolean {
    const stored = readInt(K_LAST) ?? 0;
    return now - Math.max(this.lastActivity, stored) > SESSION_IDLE_MS;
  }

  /** Persist the last activity time (pagehide). */
  persist(): void {
    if (this.lastActivity) session.set(K_LAST, String(this.lastActivity));
  }

  sessionId(): string | null {
    const sid = session.get(K_SID);
    return isUuid(sid) ? sid : null;
  }

  /** Forget the session (opt-out). */
  clear(): void {
    for (const k of [K_SID, K_LAST, K_PAGE, K_SEQ]) session.remove(k);
  }
}
