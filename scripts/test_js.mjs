// Runs the TypeScript unit tests with node's test runner. Each `test/*.test.ts` (beside the code it
// tests: js-shared/test, recorder-js/test, replay_server/player/ts/test) is bundled by esbuild with
// the modules it imports into a temporary directory, then `node --test` runs the bundles.
// Type checking is `npm run typecheck` (tsconfig.test.json); esbuild only strips the types.
// Usage: node scripts/test_js.mjs [substring of a test path ...]
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOTS = ["js-shared/test", "recorder-js/test", "replay_server/player/ts/test"];

async function testFiles() {
  const files = [];
  for (const root of ROOTS) {
    for (const name of (await readdir(root)).sort()) if (name.endsWith(".test.ts")) files.push(`${root}/${name}`);
  }
  const filters = process.argv.slice(2);
  return filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
}

const files = await testFiles();
if (!files.length) {
  console.error("test_js: no test file matches");
  process.exit(1);
}
const out = await mkdtemp(join(tmpdir(), "replay-js-tests-"));
let status = 1;
try {
  const result = await build({
    entryPoints: files,
    outdir: out,
    outbase: ".",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: ["node20"],
    sourcemap: "inline",
    logLevel: "warning",
    metafile: true,
  });
  const bundles = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".mjs"));
  const run = spawnSync(process.execPath, ["--enable-source-maps", "--test", "--test-reporter=spec", ...bundles], {
    stdio: "inherit",
  });
  status = run.status ?? 1;
} finally {
  await rm(out, { recursive: true, force: true });
}
process.exit(status);
