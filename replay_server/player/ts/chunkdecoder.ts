// Stored chunk blobs to rrweb events, in the browser: header, the site's dictionary
// (fetched once per id: ids are never reused, so a cached one is good for ever),
// zstd, msgpack. Anything unreadable is a CorruptChunk, which the loader reports
// as a missing chunk while the rest of the session plays.
import { decode as decodeMsgpack } from "@msgpack/msgpack";
import type { eventWithTime } from "@rrweb/types";
import { CorruptChunk, NO_DICTIONARY, frameContentSize, parseChunkHeader } from "./chunkformat";

/** A zstd decompressor (zstdwasm.ts in the browser); `dictionary` null: none. */
export interface Zstd {
  decompress(frame: Uint8Array, dictionary: Uint8Array | null): Uint8Array;
}

export type DictionaryFetch = (id: number) => Promise<Uint8Array>;

function isEvent(v: unknown): v is eventWithTime {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as { type?: unknown; timestamp?: unknown };
  return typeof o.type === "number" && typeof o.timestamp === "number";
}

function reason(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

export class ChunkDecoder {
  private readonly dictionaries = new Map<number, Promise<Uint8Array>>();

  constructor(
    private readonly zstd: Zstd,
    private readonly fetchDictionary: DictionaryFetch,
  ) {}

  /** The chunk's events (malformed ones dropped, as the events API's parser does). */
  async decode(blob: Uint8Array): Promise<eventWithTime[]> {
    const header = parseChunkHeader(blob);
    const size = frameContentSize(header.frame);
    const dictionary = header.dictionaryId === NO_DICTIONARY ? null : await this.dictionary(header.dictionaryId);
    let raw: Uint8Array;
    try {
      raw = this.zstd.decompress(header.frame, dictionary);
    } catch (err) {
      throw new CorruptChunk(`chunk cannot be decompressed: ${reason(err)}`);
    }
    if (raw.length !== size) throw new CorruptChunk(`chunk decompressed to ${raw.length} bytes, not ${size}`);
    let events: unknown;
    try {
      events = decodeMsgpack(raw);
    } catch (err) {
      throw new CorruptChunk(`chunk cannot be decoded: ${reason(err)}`);
    }
    if (!Array.isArray(events)) throw new CorruptChunk("chunk does not hold a list of events");
    return events.filter(isEvent);
  }

  private dictionary(id: number): Promise<Uint8Array> {
    let found = this.dictionaries.get(id);
    if (!found) {
      found = this.fetchDictionary(id).catch((err: unknown) => {
        this.dictionaries.delete(id); // a failed download may succeed for a later chunk
        throw new CorruptChunk(`dictionary ${id} cannot be fetched: ${reason(err)}`);
      });
      this.dictionaries.set(id, found);
    }
    return found;
  }
}
