// The zstd decoder in the browser: libzstd compiled to WebAssembly (@bokuweb/zstd-wasm),
// which reads the site dictionaries the server trains (ZDICT format), unlike pure-JS
// decoders. The .wasm file is served beside player.js (scripts/build_js.mjs copies it).
import { createDCtx, decompress, decompressUsingDict, init } from "@bokuweb/zstd-wasm";
import type { Zstd } from "./chunkdecoder";

// The library's init also takes the module's bytes (its typings say only a URL): fetching
// them here makes a missing or blocked file fail at once instead of never settling.
const initFromBytes = init as unknown as (bytes: Uint8Array) => Promise<void>;

async function instantiate(wasmUrl: string): Promise<Zstd> {
  const res = await fetch(wasmUrl, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`the zstd decoder could not be downloaded (status ${res.status})`);
  await initFromBytes(new Uint8Array(await res.arrayBuffer()));
  const context = createDCtx(); // reused: decoding is synchronous, one chunk at a time
  return {
    decompress: (frame, dictionary) => (dictionary ? decompressUsingDict(context, frame, dictionary) : decompress(frame)),
  };
}

/** Loads the decoder; rejects when WebAssembly is unavailable, blocked or too slow to load. */
export function loadZstd(wasmUrl: string, timeoutMs: number): Promise<Zstd> {
  if (typeof WebAssembly !== "object") return Promise.reject(new Error("WebAssembly is not available"));
  // The library never settles when the module fails to compile (e.g. a CSP without
  // 'wasm-unsafe-eval'): give up after a while so the player uses the events API.
  const timeout = new Promise<never>((_, reject) => {
    window.setTimeout(() => reject(new Error("the zstd decoder did not load")), timeoutMs);
  });
  return Promise.race([instantiate(wasmUrl), timeout]);
}
