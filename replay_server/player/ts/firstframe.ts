// Waiting for rrweb's first drawn frame: the player and the heatmap's drawn page both need it.
import type { Replayer } from "@rrweb/replay";

/** Resolves once rrweb has drawn its first full snapshot (it does so on a timer after
 * construction), or after `timeoutMs` when the recording never gets there. */
export function firstFrame(replayer: Replayer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      replayer.off("fullsnapshot-rebuilded", done);
      resolve();
    };
    replayer.on("fullsnapshot-rebuilded", done);
    window.setTimeout(done, timeoutMs);
  });
}
