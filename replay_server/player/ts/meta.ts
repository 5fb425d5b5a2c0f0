// The session details panel: who, when, on what. Values are text only.
import type { SessionMeta } from "./api";
import { el } from "./dom";
import { formatBytes, formatDateTime, formatDuration, formatSize } from "./format";

type Row = [label: string, value: string, options?: { mono?: boolean; title?: string }];

function rows(meta: SessionMeta, durationMs: number): Row[] {
  const device = [meta.browser, meta.os, meta.device].filter((s) => s.trim() !== "").join(" · ");
  const out: Row[] = [
    ["Started", formatDateTime(meta.started_at_ms), { title: meta.started_at }],
    ["Duration", formatDuration(durationMs)],
    ["Pages", String(meta.pages.length || meta.page_count)],
    ["Browser", device, { title: meta.user_agent }],
    ["Viewport", formatSize(meta.viewport)],
    ["Screen", formatSize(meta.screen)],
    ["Language", meta.lang],
    ["Time zone", meta.tz],
    ["Referrer", meta.referrer || "(direct)"],
    ["Entry URL", meta.entry_url],
    ["Visitor", meta.visitor_id, { mono: true }],
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
    dl.appendChild(el("dt", { text: label }));
    dl.appendChild(dd);
  }
  return dl;
}
