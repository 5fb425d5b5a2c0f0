// Lists with bars: the top pages, referrers, countries... read at a glance.
// Every label and number is a link to what is behind it. Text goes in as
// text (recorded paths and selectors are untrusted).
import { el } from "../dom";
import { barWidth, formatCount } from "./numbers";

export interface BarRow {
  label: string;
  /** Where the label leads (e.g. the page's heatmap); none: plain text. */
  labelHref?: string;
  labelTitle?: string;
  value: number;
  /** Where the number leads (the sessions behind it). */
  valueHref?: string;
  /** Smaller numbers after the main one (e.g. rage / dead / error clicks). */
  extras?: ReadonlyArray<Node | null>;
  mono?: boolean;
}

function link(text: string, href: string | undefined, className: string, title?: string): HTMLElement {
  const attrs: Record<string, string> = {};
  if (title) attrs["title"] = title;
  if (!href) return el("span", { className, text, attrs });
  return el("a", { className, text, attrs: { ...attrs, href } });
}

/** A card with a title and one bar per row, longest first as given. */
export function barList(title: string, rows: ReadonlyArray<BarRow>, opts: { unit?: string; empty?: string; id?: string } = {}): HTMLElement {
  const max = rows.reduce((m, r) => Math.max(m, r.value), 0);
  const list = el("ol", { className: "bar-list" });
  for (const row of rows) {
    const bar = el("span", { className: "bar", attrs: { "aria-hidden": "true" } });
    bar.style.width = `${barWidth(row.value, max)}%`;
    const label = link(row.label || "(none)", row.labelHref, "bar-label" + (row.mono ? " mono" : ""), row.labelTitle ?? row.label);
    const value = link(formatCount(row.value), row.valueHref, "bar-value", opts.unit ? `${formatCount(row.value)} ${opts.unit}` : undefined);
    list.appendChild(el("li", { className: "bar-row" }, [bar, label, ...(row.extras ?? []), value]));
  }
  const attrs: Record<string, string> = {};
  if (opts.id) attrs["id"] = opts.id;
  const body = rows.length ? list : el("p", { className: "muted bar-empty", text: opts.empty ?? "Nothing in this range." });
  return el("section", { className: "card insight-card", attrs }, [
    el("h2", { className: "insight-title" }, [el("span", { text: title }), opts.unit ? el("span", { className: "insight-unit", text: opts.unit }) : null]),
    body,
  ]);
}

/** A small count ("3 rage") that links to its sessions, shown only when non-zero. */
export function badgeCount(n: number, short: string, label: string, href: string, className: string): Node | null {
  if (!(n > 0)) return null;
  return el("a", { className: `count-badge ${className}`, text: `${formatCount(n)} ${short}`, attrs: { href, title: `${formatCount(n)} ${label}` } });
}
