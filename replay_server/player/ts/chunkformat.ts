// The stored chunk format (docs/protocol.md, "Stored chunks"), read in the browser:
//   v2: "RSCK" | 0x02 | dictionary id (uint32 BE, 0 = none) | zstd frame of msgpack(events)
//   v1: "RSCK" | 0x01 | zstd frame
// Only the headers are read here (ours and the zstd frame's); decompression is chunkdecoder.ts.

export const NO_DICTIONARY = 0;
/** Refuse frames that claim more than this (the server writes chunks of ~2 MB). */
export const MAX_CHUNK_CONTENT_BYTES = 256 * 1024 * 1024;

const MAGIC = [0x52, 0x53, 0x43, 0x4b]; // "RSCK"
const V1_HEADER_BYTES = 5;
const V2_HEADER_BYTES = 9;
const ZSTD_MAGIC = 0xfd2fb528;

/** A chunk that cannot be read: it is reported missing, the rest of the session still plays. */
export class CorruptChunk extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptChunk";
  }
}

export interface ChunkHeader {
  version: 1 | 2;
  /** The site dictionary the frame needs (0: none). */
  dictionaryId: number;
  /** The zstd frame (a view into the blob). */
  frame: Uint8Array;
}

export function parseChunkHeader(blob: Uint8Array): ChunkHeader {
  if (blob.length < V1_HEADER_BYTES || MAGIC.some((b, i) => blob[i] !== b)) throw new CorruptChunk("not a replay chunk (bad magic)");
  const version = blob[4];
  if (version === 1) return { version: 1, dictionaryId: NO_DICTIONARY, frame: blob.subarray(V1_HEADER_BYTES) };
  if (version !== 2) throw new CorruptChunk(`unknown chunk format version ${String(version)}`);
  if (blob.length < V2_HEADER_BYTES) throw new CorruptChunk("chunk header is cut short");
  const dictionaryId = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(5, false);
  return { version: 2, dictionaryId, frame: blob.subarray(V2_HEADER_BYTES) };
}

const DICT_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8];

/**
 * The decompressed size a zstd frame header declares (RFC 8878, 3.1.1.1). The server always
 * writes it; a frame without it, or claiming more than MAX_CHUNK_CONTENT_BYTES, is refused
 * before the decoder allocates anything for it.
 */
export function frameContentSize(frame: Uint8Array): number {
  if (frame.length < 6) throw new CorruptChunk("zstd frame is cut short");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) throw new CorruptChunk("not a zstd frame");
  const descriptor = frame[4] ?? 0;
  if (descriptor & 0x08) throw new CorruptChunk("zstd frame header has its reserved bit set");
  const singleSegment = (descriptor & 0x20) !== 0;
  const sizeFlag = descriptor >> 6;
  const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : (CONTENT_SIZE_BYTES[sizeFlag] ?? 0);
  if (sizeBytes === 0) throw new CorruptChunk("zstd frame does not declare its size");
  const at = 5 + (singleSegment ? 0 : 1) + (DICT_ID_BYTES[descriptor & 0x03] ?? 0);
  if (frame.length < at + sizeBytes) throw new CorruptChunk("zstd frame header is cut short");
  let size: number;
  if (sizeBytes === 1) size = view.getUint8(at);
  else if (sizeBytes === 2) size = view.getUint16(at, true) + 256;
  else if (sizeBytes === 4) size = view.getUint32(at, true);
  else size = view.getUint32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
  if (size > MAX_CHUNK_CONTENT_BYTES) throw new CorruptChunk(`zstd frame claims ${size} bytes`);
  return size;
}
