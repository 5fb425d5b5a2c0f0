// A recorded page may carry its own referrer policy: <meta name="referrer">,
// `referrerpolicy` attributes, or an iframe's srcdoc document holding either.
// Rebuilt inside the replay, they would override the player page's
// no-referrer policy, and images, media and frames would send the dashboard's
// URL (with the session id) to whatever host the recording names. Events are
// rewritten before rrweb sees them: every such policy becomes no-referrer and
// srcdoc is dropped (rrweb records a same-origin frame's document as nodes).
import { EventType, IncrementalSource, NodeType, type eventWithTime } from "@rrweb/types";

export const NO_REFERRER = "no-referrer";

type Attrs = Record<string, unknown>;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function lower(v: unknown): string {
  return typeof v === "string" ? v.trim().toLowerCase() : "";
}

/** One per replay: remembers which nodes are <meta name="referrer"> (a later `content` change). */
export class ReferrerScrubber {
  private readonly metas = new Set<number>();

  /** Rewrite `events` in place; returns how many values were changed. */
  scrub(events: ReadonlyArray<eventWithTime>): number {
    let changed = 0;
    for (const e of events) {
      const data: unknown = e.data;
      if (!isObj(data)) continue;
      if (e.type === EventType.FullSnapshot) {
        this.metas.clear();
        changed += this.tree(data["node"]);
      } else if (e.type === EventType.IncrementalSnapshot && data["source"] === IncrementalSource.Mutation) {
        if (Array.isArray(data["adds"])) for (const add of data["adds"]) if (isObj(add)) changed += this.tree(add["node"]);
        if (Array.isArray(data["attributes"])) for (const change of data["attributes"]) if (isObj(change)) changed += this.change(change);
      }
    }
    return changed;
  }

  private tree(root: unknown): number {
    let changed = 0;
    const stack: unknown[] = [root];
    while (stack.length) {
      const node = stack.pop();
      if (!isObj(node)) continue;
      if (node["type"] === NodeType.Element && isObj(node["attributes"])) {
        changed += this.element(lower(node["tagName"]), node["attributes"], node["id"]);
      }
      if (Array.isArray(node["childNodes"])) stack.push(...(node["childNodes"] as unknown[]));
    }
    return changed;
  }

  private element(tag: string, attrs: Attrs, id: unknown): number {
    let changed = policyAttributes(attrs);
    if (tag === "meta" && isReferrerMeta(attrs)) {
      if (typeof id === "number") this.metas.add(id);
      if (attrs["content"] !== NO_REFERRER) {
        attrs["content"] = NO_REFERRER;
        changed++;
      }
    }
    if (tag === "iframe" && "srcdoc" in attrs) {
      delete attrs["srcdoc"];
      changed++;
    }
    return changed;
  }

  private change(change: Record<string, unknown>): number {
    const attrs = change["attributes"];
    if (!isObj(attrs)) return 0;
    let changed = policyAttributes(attrs);
    const id = change["id"];
    if (isReferrerMeta(attrs) && typeof id === "number") this.metas.add(id);
    if (typeof id === "number" && this.metas.has(id) && "content" in attrs && attrs["content"] !== NO_REFERRER) {
      attrs["content"] = NO_REFERRER;
      changed++;
    }
    if ("srcdoc" in attrs) {
      delete attrs["srcdoc"]; // only iframes have one
      changed++;
    }
    return changed;
  }
}

function isReferrerMeta(attrs: Attrs): boolean {
  return lower(attrs["name"]) === "referrer" || lower(attrs["http-equiv"]) === "referrer-policy";
}

/** Every `referrerpolicy` attribute (any case) becomes no-referrer; a removal stays a removal. */
function policyAttributes(attrs: Attrs): number {
  let changed = 0;
  for (const key of Object.keys(attrs)) {
    if (key.toLowerCase() === "referrerpolicy" && attrs[key] !== null && attrs[key] !== NO_REFERRER) {
      attrs[key] = NO_REFERRER;
      changed++;
    }
  }
  return changed;
}
