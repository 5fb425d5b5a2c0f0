// Names for recorded elements, from the serialized nodes of full snapshots and
// mutations: "“Add to cart”" (the element's text) or a selector like
// "button#buy.primary". Never input values: those are not read at all.
import { EventType, IncrementalSource, NodeType, type eventWithTime } from "@rrweb/types";

const MAX_TEXT = 40;

interface SNode {
  type?: unknown;
  id?: unknown;
  tagName?: unknown;
  attributes?: unknown;
  textContent?: unknown;
  childNodes?: unknown;
}

interface Info {
  tag: string;
  selector: string;
  text: string;
  parent: number | null;
}

const FORM_TAGS = new Set(["input", "textarea", "select", "option"]);

function attrs(n: SNode): Record<string, unknown> {
  return typeof n.attributes === "object" && n.attributes !== null ? (n.attributes as Record<string, unknown>) : {};
}

function selectorOf(tag: string, a: Record<string, unknown>): string {
  const id = typeof a["id"] === "string" && a["id"] ? `#${a["id"]}` : "";
  if (id) return `${tag}${id}`;
  const name = typeof a["name"] === "string" && a["name"] ? `[name="${a["name"]}"]` : "";
  const cls = typeof a["class"] === "string" ? a["class"].trim().split(/\s+/).filter(Boolean).slice(0, 2) : [];
  return `${tag}${name}${cls.map((c) => "." + c).join("")}`;
}

export class NodeNames {
  private readonly nodes = new Map<number, Info>();

  reset(): void {
    this.nodes.clear();
  }

  /** Learn the nodes a full snapshot or a mutation brings. */
  observe(e: eventWithTime): void {
    if (e.type === EventType.FullSnapshot) {
      this.reset();
      this.walk((e.data as { node?: SNode }).node, null);
    } else if (e.type === EventType.IncrementalSnapshot && (e.data as { source?: unknown }).source === IncrementalSource.Mutation) {
      const adds = (e.data as { adds?: unknown }).adds;
      if (!Array.isArray(adds)) return;
      for (const add of adds as Array<{ parentId?: unknown; node?: SNode }>) {
        this.walk(add.node, typeof add.parentId === "number" ? add.parentId : null);
      }
    }
  }

  private walk(n: SNode | undefined, parent: number | null): void {
    if (!n || typeof n.id !== "number") return;
    if (n.type === NodeType.Element && typeof n.tagName === "string") {
      const tag = n.tagName.toLowerCase();
      this.nodes.set(n.id, { tag, selector: selectorOf(tag, attrs(n)), text: "", parent });
    } else if (n.type === NodeType.Text && typeof n.textContent === "string" && parent !== null) {
      this.addText(parent, n.textContent);
    }
    if (Array.isArray(n.childNodes)) for (const c of n.childNodes as SNode[]) this.walk(c, n.id);
  }

  /** Text goes to the element and its ancestors, so a click on a button's icon still reads its label. */
  private addText(id: number, text: string): void {
    const clean = text.replace(/\s+/g, " ").trim();
    if (!clean) return;
    let at: number | null = id;
    for (let depth = 0; at !== null && depth < 3; depth++) {
      const info = this.nodes.get(at);
      if (!info) return;
      if (info.text.length < MAX_TEXT && !FORM_TAGS.has(info.tag) && info.tag !== "script" && info.tag !== "style") {
        info.text = (info.text ? info.text + " " + clean : clean).slice(0, MAX_TEXT);
      }
      at = info.parent;
    }
  }

  tag(id: number): string {
    return this.nodes.get(id)?.tag ?? "";
  }

  /** The element's text in quotes when it has any, else its selector. */
  label(id: number): string {
    const info = this.nodes.get(id);
    if (!info) return "an element";
    return info.text ? `“${info.text}”` : info.selector;
  }

  selector(id: number): string {
    return this.nodes.get(id)?.selector ?? "a field";
  }
}
