// Entry point of the dashboard's replay player (player.html): loads the
// session progressively (the chunks around the wanted moment first, decoded
// here from their stored form; the rest streamed in behind the playback), or
// follows it live while it is still recording.
import { EventType, type eventWithTime } from "@rrweb/types";
import { Api, ApiError, type EventsPage, type SessionMeta } from "./api";
import { ChunkDecoder, type Zstd } from "./chunkdecoder";
import { PageGuard, type Notice } from "./guard";
import { ReferrerScrubber } from "./referrer";
import { Layout } from "./layout";
import { LiveView, type LiveEnd } from "./live";
import { ChunkLoader, Loader, planChunks, planWindows, type LoadedPart } from "./loader";
import { detailsPanel } from "./meta";
import { Player, type EarlierParts } from "./replay";
import { clear } from "./dom";
import { message, requestedTime } from "./util";
import { loadZstd } from "./zstdwasm";

// The decoder's WebAssembly file is served beside this script.
const SCRIPT_SRC = document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : "";
const ZSTD_LOAD_TIMEOUT_MS = 3000;

/** The session's last event time (event clock), from the chunk list and the metadata. */
function expectedEnd(meta: SessionMeta): number {
  const last = meta.chunks.items.reduce((m, c) => Math.max(m, c.last_ts), 0);
  return Math.max(last, meta.last_event_ms);
}

/**
 * Builds the replay from parts as they arrive: "forward" parts continue in time order,
 * "backfill" parts precede everything so far (each a run beginning with a full snapshot).
 */
class Assembly {
  private player: Player | null = null;
  private buffered: eventWithTime[] = [];
  private opened: Promise<void> | null = null;
  private readonly guard = new PageGuard();
  private readonly scrubber = new ReferrerScrubber();
  private readonly notices: Notice[] = [];
  private finished = false;

  constructor(
    private readonly layout: Layout,
    private readonly meta: SessionMeta,
    private readonly earlier: EarlierParts | null,
  ) {}

  forward(page: EventsPage, done: number, count: number): void {
    const notices = this.guard.missing(page.missing);
    const accepted = this.guard.filter(page.events);
    this.scrubber.scrub(accepted.events);
    notices.push(...accepted.notices);
    this.take(accepted.events, notices, done, count, false);
  }

  /** A run of earlier chunks: its own guard (it begins with a full snapshot, or is lost). */
  backfill(page: EventsPage, done: number, count: number): void {
    const guard = new PageGuard();
    const notices = guard.missing(page.missing);
    const accepted = guard.filter(page.events);
    this.scrubber.scrub(accepted.events);
    notices.push(...accepted.notices, ...guard.finish());
    this.take(accepted.events, notices, done, count, true);
  }

  private take(events: eventWithTime[], notices: Notice[], done: number, count: number, earlier: boolean): void {
    if (this.player) {
      if (earlier) this.player.prepend(events);
      else this.player.append(events);
      this.player.notices(notices);
      return;
    }
    for (const n of notices) this.layout.addNotice(n.message);
    this.notices.push(...notices);
    this.buffered = earlier ? events.concat(this.buffered) : this.buffered.concat(events);
    this.layout.showLoading("Loading session…", `part ${done} of ${count}`);
    if (this.buffered.length < 2 || !this.buffered.some((e) => e.type === EventType.FullSnapshot)) return;
    const player = new Player(this.layout, this.meta, this.buffered, expectedEnd(this.meta), this.earlier);
    this.player = player;
    player.notices(this.notices);
    this.buffered = [];
    this.opened = player.open(requestedTime()).then(() => {
      this.layout.hideOverlay();
      // Read by benchmarks/player.py and the tests: ms since navigation start, download progress.
      const root = document.documentElement.dataset;
      root.firstFrameAt = String(Math.round(performance.now()));
      root.windowsAtFirstFrame = String(done);
      root.windows = String(count);
    });
  }

  /** The forward stream is complete: the session ends at its last event. */
  endForward(): void {
    const last = this.guard.finish();
    this.notices.push(...last);
    if (!this.player || this.finished) return;
    this.finished = true;
    this.player.notices(last);
    this.player.finish();
  }

  async end(): Promise<void> {
    this.endForward();
    if (!this.player) {
      const why = this.notices.length ? "No page of this session could be drawn." : "";
      this.layout.showError(
        why || (this.meta.chunks.count === 0 ? "Nothing has been recorded in this session yet." : "This recording has no full page snapshot to start from."),
        this.notices.map((n) => n.message).join(" "),
      );
      return;
    }
    if (!this.finished) {
      this.finished = true;
      this.player.finish();
    }
    this.player.backfilled();
    if (this.opened) await this.opened;
    document.documentElement.dataset.loaded = "true";
  }
}

async function playChunks(api: Api, layout: Layout, meta: SessionMeta, zstd: Zstd): Promise<void> {
  const plan = planChunks(meta.chunks.items, requestedTime());
  const decoder = new ChunkDecoder(zstd, (id) => api.dictionary(meta.site_id, id));
  const earlier = plan.backfill.length && plan.startTs !== null ? { startTs: plan.startTs } : null;
  const assembly = new Assembly(layout, meta, earlier);
  document.documentElement.dataset.source = "chunks";
  await new ChunkLoader(api, meta.id, decoder, plan).run((part: LoadedPart, done: number, count: number) => {
    if (part.kind === "backfill") assembly.backfill(part, done, count);
    else {
      assembly.forward(part, done, count);
      if (part.endsForward) assembly.endForward();
    }
  });
  await assembly.end();
}

/** Through the JSON events API, in time windows (when the chunk decoder cannot load). */
async function playWindows(api: Api, layout: Layout, meta: SessionMeta): Promise<void> {
  const assembly = new Assembly(layout, meta, null);
  document.documentElement.dataset.source = "events";
  await new Loader(api, meta.id, planWindows(meta.chunks.items)).run((page, index, count) => assembly.forward(page, index + 1, count));
  await assembly.end();
}

async function playRecording(api: Api, layout: Layout, meta: SessionMeta, zstd: Promise<Zstd>): Promise<void> {
  let decoder: Zstd | null = null;
  if (meta.chunks.items.length) decoder = await zstd.catch(() => null);
  if (decoder) await playChunks(api, layout, meta, decoder);
  else await playWindows(api, layout, meta);
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
  // Loaded beside the session's metadata; a failure only means the events API is used instead.
  const zstd = loadZstd(new URL("zstd.wasm", SCRIPT_SRC || window.location.href).toString(), ZSTD_LOAD_TIMEOUT_MS);
  zstd.catch(() => undefined);
  try {
    const meta = await api.session(sessionId);
    layout.setDetails(detailsPanel(meta, meta.duration_ms));
    if (meta.live && allowLive && requestedTime() === null) {
      followLive(api, layout, meta, root);
      return;
    }
    await playRecording(api, layout, meta, zstd);
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
