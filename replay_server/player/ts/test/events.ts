// rrweb events for the tests, built with rrweb's own enums.
import { EventType, IncrementalSource, MouseInteractions, NodeType, type eventWithTime } from "@rrweb/types";

export function meta(ts: number, href = "https://shop.example/"): eventWithTime {
  return { type: EventType.Meta, data: { href, width: 1280, height: 720 }, timestamp: ts };
}

/** A full snapshot of <html><body><button id="buy">Add to cart</button><input id="email" name="email"><div class="box big"></div></body></html>. */
export function snapshot(ts: number): eventWithTime {
  return {
    type: EventType.FullSnapshot,
    timestamp: ts,
    data: {
      initialOffset: { top: 0, left: 0 },
      node: {
        type: NodeType.Document,
        id: 1,
        childNodes: [
          {
            type: NodeType.Element,
            id: 2,
            tagName: "html",
            attributes: {},
            childNodes: [
              {
                type: NodeType.Element,
                id: 3,
                tagName: "body",
                attributes: {},
                childNodes: [
                  {
                    type: NodeType.Element,
                    id: 10,
                    tagName: "button",
                    attributes: { id: "buy" },
                    childNodes: [{ type: NodeType.Text, id: 11, textContent: "  Add to\n cart " }],
                  },
                  { type: NodeType.Element, id: 12, tagName: "input", attributes: { id: "email", name: "email" }, childNodes: [] },
                  { type: NodeType.Element, id: 13, tagName: "div", attributes: { class: "box big extra" }, childNodes: [] },
                ],
              },
            ],
          },
        ],
      },
    },
  };
}

export function click(ts: number, id: number, x = 10, y = 10): eventWithTime {
  return {
    type: EventType.IncrementalSnapshot,
    timestamp: ts,
    data: { source: IncrementalSource.MouseInteraction, type: MouseInteractions.Click, id, x, y },
  };
}

export function input(ts: number, id: number): eventWithTime {
  return { type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: IncrementalSource.Input, id, text: "secret", isChecked: false } };
}

export function mouseMove(ts: number): eventWithTime {
  return { type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: IncrementalSource.MouseMove, positions: [] } };
}

/** A mutation adding <a class="more" name="n"> with text under `parentId`. */
export function mutation(ts: number, parentId = 3, id = 20): eventWithTime {
  return {
    type: EventType.IncrementalSnapshot,
    timestamp: ts,
    data: {
      source: IncrementalSource.Mutation,
      texts: [],
      attributes: [],
      removes: [],
      adds: [
        {
          parentId,
          nextId: null,
          node: {
            type: NodeType.Element,
            id,
            tagName: "a",
            attributes: { class: "more" },
            childNodes: [{ type: NodeType.Text, id: id + 1, textContent: "Read more" }],
          },
        },
      ],
    },
  };
}

export function error(ts: number, message: string): eventWithTime {
  return { type: EventType.Custom, timestamp: ts, data: { tag: "error", payload: { message, source: "x.js" } } };
}
