// msgpack encoding of client messages (batches optionally gzip'd) and decoding of server messages.

import { decode, encode } from "@msgpack/msgpack";
import { canGzip, gzip } from "./compress";
import { parseServerMessage, type BatchMessage, type ClientMessage, type ServerMessage } from "./config";
import type { QueuedBatch } from "./queue";

// rrweb snapshots nest two levels per DOM level; msgpack's default depth limit (100) is too low.
const ENCODE_OPTIONS = { ignoreUndefined: true, maxDepth: 2000 } as const;
/** Below this many msgpack bytes gzip is not worth its header and CPU. */
const GZIP_MIN_BYTES = 1024;

/** A frame ready for WebSocket.send (msgpack always allocates a plain ArrayBuffer). */
export type Frame = Uint8Array<ArrayBuffer>;

export function encodeMessage(msg: ClientMessage): Frame {
  return encode(msg, ENCODE_OPTIONS) as Frame;
}

export function decodeMessage(data: unknown): ServerMessage | null {
  if (!(data instanceof ArrayBuffer)) return null;
  return parseServerMessage(decode(new Uint8Array(data)));
}

/** Frame with plain `events` (synchronous: used at pagehide, when promises may never settle). */
export function encodeBatchPlain(b: QueuedBatch): Frame {
  const msg: BatchMessage = { t: "batch", seq: b.seq, page: b.page, events: b.events };
  return encodeMessage(msg);
}

/** Frame with `gz` = gzip(msgpack(events)) when that helps, else plain `events`. */
export async function encodeBatch(b: QueuedBatch): Promise<Frame> {
  if (b.gz === undefined) {
    b.gz = null;
    if (canGzip()) {
      const packed = encode(b.events, ENCODE_OPTIONS);
      if (packed.byteLength >= GZIP_MIN_BYTES) b.gz = await gzip(packed);
    }
  }
  if (!b.gz) return encodeBatchPlain(b);
  const msg: BatchMessage = { t: "batch", seq: b.seq, page: b.page, gz: b.gz };
  return encodeMessage(msg);
}
