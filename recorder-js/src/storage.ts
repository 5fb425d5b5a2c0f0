// Safe wrappers around sessionStorage, localStorage and document.cookie.
// Storage may be missing or throw (sandboxed iframes, disabled cookies, Safari private mode):
// then values live in memory for the lifetime of the page.

import { debug } from "./log";

export interface KeyValueStore {
  get(key: string): string | null;
  /** Returns false when the value could not be stored (quota exceeded). */
  set(key: string, value: string): boolean;
  remove(key: string): void;
}

type StorageName = "sessionStorage" | "localStorage";

function probe(name: StorageName): Storage | null {
  try {
    const s = window[name];
    const k = "_rs_probe";
    s.setItem(k, "1");
    s.removeItem(k);
    return s;
  } catch {
    return null;
  }
}

class SafeStore implements KeyValueStore {
  private readonly memory = new Map<string, string>();
  private storage: Storage | null | undefined;

  constructor(private readonly name: StorageName) {}

  private backend(): Storage | null {
    if (this.storage === undefined) {
      this.storage = probe(this.name);
      if (!this.storage) debug(this.name, "unavailable, using memory");
    }
    return this.storage;
  }

  get(key: string): string | null {
    const s = this.backend();
    if (!s) return this.memory.get(key) ?? null;
    try {
      return s.getItem(key);
    } catch {
      return null;
    }
  }

  set(key: string, value: string): boolean {
    const s = this.backend();
    if (!s) {
      this.memory.set(key, value);
      return true;
    }
    try {
      s.setItem(key, value);
      return true;
    } catch (err) {
      debug(this.name, "set failed", key, err);
      this.remove(key); // never leave a stale value behind
      return false;
    }
  }

  remove(key: string): void {
    this.memory.delete(key);
    const s = this.backend();
    if (!s) return;
    try {
      s.removeItem(key);
    } catch {
      // ignore
    }
  }
}

export const session: KeyValueStore = new SafeStore("sessionStorage");
export const local: KeyValueStore = new SafeStore("localStorage");

const YEAR_SECONDS = 365 * 24 * 3600;

export function getCookie(name: string): string | null {
  try {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const c = part.trim();
      if (c.indexOf(prefix) === 0) return decodeURIComponent(c.slice(prefix.length));
    }
  } catch {
    // cookies disabled or document.cookie patched
  }
  return null;
}

/** First-party cookie: path=/, SameSite=Lax, Secure on https pages. maxAge 0 deletes it. */
export function setCookie(name: string, value: string, maxAgeSeconds: number = YEAR_SECONDS): void {
  try {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie =
      `${name}=${encodeURIComponent(value)}; Max-Age=${maxAgeSeconds}; path=/; SameSite=Lax${secure}`;
  } catch {
    // ignore
  }
}
