// The session details panel: who, when, on what. Values are text only.
import type { SessionMeta } from "./api";
import { el } from "./dom";
import { formatBytes, formatDateTime, formatDuration, formatSize } from "./format";

type Row = [label: string, value: string, options?: { mono?: boolean; title?: string; href?: string; linkText?: string }];

function rows(meta: SessionMeta, durationMs: number): Row[] {
  const out: Row[] = [
    ["Started", formatDateTime(meta.started_at_ms), { title: meta.started_at }],
    ["Duration", formatDuration(durationMs)],
    ["Pages", String(meta.pages.length || meta.page_count)],
    ["Device", meta.device],
    ["Browser", meta.browser, { title: meta.user_agent }],
    ["OS", meta.os],
    ["Viewport", formatSize(meta.viewport)],
    ["Screen", formatSize(meta.screen)],
    ...(meta.country ? ([["Country", meta.country]] as Row[]) : []),
    ["Language", meta.lang],
    ["Time zone", meta.tz],
    ["Referrer", meta.referrer || "(direct)"],
    ["Entry URL", meta.entry_url],
    [
      "Visitor",
      meta.visitor_id,
      {
        mono: true,
        href: `/sites/${encodeURIComponent(String(meta.site_id))}/sessions?visitor=${encodeURIComponent(meta.visitor_id)}`,
        linkText: "All sessions of this visitor",
      },
    ],
    ["Session", meta.id, { mono: true }],
  ];
  if (meta.chunks.raw_bytes > 0) {
    out.push([
      "Recording",
      `${formatBytes(meta.chunks.raw_bytes)} (${formatBytes(meta.chunks.stored_bytes)} stored)`,
    ]);
  }
  return out;
}

export function detailsPanel(meta: SessionMeta, durationMs: number): HTMLDListElement {
  const dl = el("dl", { className: "details" });
  for (const [label, value, options] of rows(meta, durationMs)) {
    const dd = el("dd", { text: value.trim() === "" ? "—" : value });
    if (options?.mono) dd.classList.add("mono");
    if (options?.title) dd.title = options.title;
    if (options?.href && value.trim() !== "") {
      dd.appendChild(el("br"));
      dd.appendChild(el("a", { className: "visitor-link", text: options.linkText ?? value, attrs: { href: options.href } }));
    }
    dl.appendChild(el("dt", { text: label }));
    dl.appendChild(dd);
  }
  return dl;
}
