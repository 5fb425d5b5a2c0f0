// gzip with the browser's CompressionStream, when it has one.

export function canGzip(): boolean {
  return typeof CompressionStream === "function" && typeof Blob === "function" && typeof Response === "function";
}

/** gzip `data`; resolves to null when CompressionStream is missing or fails. */
export async function gzip(data: Uint8Array): Promise<Uint8Array | null> {
  if (!canGzip()) return null;
  try {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return null;
  }
}
