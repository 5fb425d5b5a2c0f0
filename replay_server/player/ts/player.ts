// Entry point of the dashboard's replay player (player.html): loads the
// session progressively (first chunk first, the rest streamed in behind the
// playback), or follows it live while it is still recording.
import { EventType, type eventWithTime } from "@rrweb/types";
import { Api, ApiError, type EventsPage, type SessionMeta } from "./api";
import { PageGuard } from "./guard";
import { ReferrerScrubber } from "./referrer";
import { Layout } from "./layout";
import { LiveView, type LiveEnd } from "./live";
import { Loader, planWindows } from "./loader";
import { detailsPanel } from "./meta";
import { Player } from "./replay";
import { clear } from "./dom";
import { message, requestedTime } from "./util";

/** The session's last event time (event clock), from the chunk list and the metadata. */
function expectedEnd(meta: SessionMeta): number {
  const last = meta.chunks.items.reduce((m, c) => Math.max(m, c.last_ts), 0);
  return Math.max(last, meta.last_event_ms);
}

async function playRecording(api: Api, layout: Layout, meta: SessionMeta): Promise<void> {
  const loader = new Loader(api, meta.id, planWindows(meta.chunks.items));
  const guard = new PageGuard();
  const scrubber = new ReferrerScrubber();
  let player: Player | null = null;
  let buffered: eventWithTime[] = [];
  let opened: Promise<void> | null = null;

  const onWindow = (page: EventsPage, index: number, count: number): void => {
    const notices = guard.missing(page.missing);
    const accepted = guard.filter(page.events);
    scrubber.scrub(accepted.events);
    notices.push(...accepted.notices);
    if (player) {
      player.append(accepted.events);
      player.notices(notices);
      return;
    }
    for (const n of notices) layout.addNotice(n.message);
    buffered = buffered.concat(accepted.events);
    layout.showLoading("Loading session…", `part ${index + 1} of ${count}`);
    if (buffered.length < 2 || !buffered.some((e) => e.type === EventType.FullSnapshot)) return;
    player = new Player(layout, meta, buffered, expectedEnd(meta));
    player.notices(guard.notices);
    buffered = [];
    const windowsSoFar = index + 1;
    opened = player.open(requestedTime()).then(() => {
      layout.hideOverlay();
      // Read by benchmarks/player.py and the tests: ms since navigation start, download progress.
      const root = document.documentElement.dataset;
      root.firstFrameAt = String(Math.round(performance.now()));
      root.windowsAtFirstFrame = String(windowsSoFar);
      root.windows = String(count);
    });
  };

  await loader.run(onWindow);
  const last = guard.finish();
  if (!player) {
    const why = last.length || guard.notices.length ? "No page of this session could be drawn." : "";
    layout.showError(
      why || (meta.chunks.count === 0 ? "Nothing has been recorded in this session yet." : "This recording has no full page snapshot to start from."),
      guard.notices.map((n) => n.message).join(" "),
    );
    return;
  }
  const done: Player = player;
  done.notices(last);
  done.finish();
  if (opened) await opened;
  document.documentElement.dataset.loaded = "true";
}

function followLive(api: Api, layout: Layout, meta: SessionMeta, root: HTMLElement): void {
  const live = new LiveView(
    layout,
    api.liveUrl(meta.id),
    (why: LiveEnd) => {
      // The session ended (or the live feed broke off): replay it normally from the API.
      live.destroy();
      document.documentElement.dataset.live = "false";
      restart(api, root, why === "ended" ? "The session has ended: replaying it." : "Live view interrupted: replaying what is stored.");
    },
    () => {
      layout.hideOverlay();
      document.documentElement.dataset.live = "true";
    },
  );
  layout.showLoading("Connecting to the live session…");
  live.start();
}

function restart(api: Api, root: HTMLElement, note: string): void {
  clear(root);
  const layout = new Layout(root);
  layout.addNotice(note);
  load(api, layout, root.dataset.sessionId || "", root, false).catch(() => undefined);
}

async function load(api: Api, layout: Layout, sessionId: string, root: HTMLElement, allowLive: boolean): Promise<void> {
  layout.showLoading("Loading session…");
  try {
    const meta = await api.session(sessionId);
    layout.setDetails(detailsPanel(meta, meta.duration_ms));
    if (meta.live && allowLive && requestedTime() === null) {
      followLive(api, layout, meta, root);
      return;
    }
    await playRecording(api, layout, meta);
  } catch (err) {
    layout.showError(message(err), err instanceof ApiError && err.status ? `Status ${err.status}` : "");
  }
}

function main(): void {
  const root = document.getElementById("player");
  if (!root) return;
  const sessionId = root.dataset.sessionId || "";
  const api = new Api(root.dataset.apiBase || "/api/v1");
  const layout = new Layout(root);
  if (!sessionId) {
    layout.showError("No session was given to this page.");
    return;
  }
  // rrweb applies events from its own timers; a failure there must not go unhandled.
  window.addEventListener("unhandledrejection", (e) => e.preventDefault());
  load(api, layout, sessionId, root, true).catch(() => undefined);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
