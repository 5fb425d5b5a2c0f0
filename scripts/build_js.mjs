// Bundles the recorder and the dashboard player with esbuild.
// Output goes into the Python package so the server serves it without Node at run time.
import { build } from "esbuild";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";

// recorder.js is downloaded by every visitor of every recorded site: the build fails past this
// (gzip level 9; 36.6 KB in December 2026, most of it rrweb's record).
const RECORDER_GZIP_BUDGET = 40 * 1024;

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
  // The zstd decoder's web entry resolves its .wasm from import.meta.url, which an IIFE
  // does not have; the player passes the module's bytes itself (zstdwasm.ts).
  define: { "import.meta.url": "location.href" },
});

// The chunk decoder's WebAssembly (libzstd), served beside player.js; the .gz sibling is
// what aiohttp's static files send to browsers that accept gzip (80 KB instead of 250 KB).
const ZSTD_WASM = "replay_server/player/static/zstd.wasm";
await copyFile("node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm", ZSTD_WASM);
await writeFile(ZSTD_WASM + ".gz", gzipSync(await readFile(ZSTD_WASM), { level: 9 }));

// The insights pages (issue 16): each entry's imported stylesheets come out beside it (NAME.css).
for (const name of ["overview", "heatmap"]) {
  await build({
    ...common,
    entryPoints: [`replay_server/player/ts/insights/${name}.ts`],
    outfile: `replay_server/player/static/${name}.js`,
  });
}

await copyFile(
  "node_modules/@rrweb/replay/dist/style.css",
  "replay_server/player/static/rrweb-replay.css",
);

async function gzipSize(path) {
  return gzipSync(await readFile(path), { level: 9 }).length;
}

// The player is downloaded on every cold open of a replay: aiohttp's static files send the
// .gz sibling to browsers that accept gzip (83 KB instead of 260 KB).
const PLAYER_JS = "replay_server/player/static/player.js";
await writeFile(PLAYER_JS + ".gz", gzipSync(await readFile(PLAYER_JS), { level: 9 }));

const recorderGzip = await gzipSize("replay_server/static/recorder.js");
const playerGzip = await gzipSize("replay_server/player/static/player.js");
const kb = (n) => (n / 1024).toFixed(1) + " KB";
console.log(`recorder.js ${kb(recorderGzip)} gzip (budget ${kb(RECORDER_GZIP_BUDGET)}), player.js ${kb(playerGzip)} gzip`);
if (recorderGzip > RECORDER_GZIP_BUDGET) {
  console.error(`recorder.js is over its size budget: ${recorderGzip} > ${RECORDER_GZIP_BUDGET} bytes gzip`);
  process.exit(1);
}
