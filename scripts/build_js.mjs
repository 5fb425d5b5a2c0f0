// Bundles the recorder and the dashboard player with esbuild.
// Output goes into the Python package so the server serves it without Node at run time.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";

const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2019"],
  legalComments: "none",
  logLevel: "warning",
};

await mkdir("replay_server/static", { recursive: true });
await mkdir("replay_server/player/static", { recursive: true });

await build({
  ...common,
  entryPoints: ["recorder-js/src/index.ts"],
  outfile: "replay_server/static/recorder.js",
});

await build({
  ...common,
  entryPoints: ["replay_server/player/ts/player.ts"],
  outfile: "replay_server/player/static/player.js",
});

await copyFile(
  "node_modules/@rrweb/replay/dist/style.css",
  "replay_server/player/static/rrweb-replay.css",
);
