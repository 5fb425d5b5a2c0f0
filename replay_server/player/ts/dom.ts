// Tiny DOM helpers. Every string goes in through textContent or setAttribute,
// never through innerHTML: recorded URLs and titles are untrusted.

export interface ElProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElProps = {},
  children: ReadonlyArray<Node | null> = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child) node.appendChild(child);
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A 16x16 icon from one static path (the path strings are constants in this bundle). */
export function icon(path: string, className = "icon"): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  const p = document.createElementNS(SVG_NS, "path");
  p.setAttribute("d", path);
  p.setAttribute("fill", "currentColor");
  svg.appendChild(p);
  return svg;
}

export const ICONS = {
  play: "M4.5 2.6v10.8c0 .6.7 1 1.2.6l8.1-5.4a.7.7 0 0 0 0-1.2L5.7 2c-.5-.4-1.2 0-1.2.6z",
  pause: "M4 2.5h2.6v11H4zm5.4 0H12v11H9.4z",
  replay: "M8 2.5a5.5 5.5 0 1 1-5.3 7h1.6A4 4 0 1 0 5.2 5.2L7 7H2.5V2.5l1.6 1.6A5.5 5.5 0 0 1 8 2.5z",
  fullscreen: "M2 2h4.5v1.5h-3v3H2zm7.5 0H14v4.5h-1.5v-3h-3zM2 9.5h1.5v3h3V14H2zm10.5 0H14V14H9.5v-1.5h3z",
  link: "M6.9 9.1a.75.75 0 0 1 0-1.06l2.1-2.1a.75.75 0 1 1 1.06 1.06l-2.1 2.1a.75.75 0 0 1-1.06 0zM4.6 8.3l-1 1a2.5 2.5 0 0 0 3.54 3.54l1-1 1.06 1.06-1 1A4 4 0 0 1 2.54 8.24l1-1zm6.8-.6 1-1a2.5 2.5 0 0 0-3.54-3.54l-1 1L6.8 3.1l1-1a4 4 0 0 1 5.66 5.66l-1 1z",
} as const;

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}
