import { CONTENT_LENGTH_HEADER, type Framing } from "./framing.js";

const BOM = [0xef, 0xbb, 0xbf];
/** Header names that mark a Content-Length stream, lower case, with their colon. */
const HEADER_NAMES = [CONTENT_LENGTH_HEADER, "content-type:"].map((name) => Buffer.from(name, "latin1"));

/**
 * What a stream's first bytes say: its framing (undefined while they cannot tell yet) and where its first message
 * starts.
 */
export interface Detection {
  framing: Framing | undefined;
  start: number;
}

/**
 * `--framing=auto`: the framing of a stream from its first bytes. UTF-8
 * byte-order marks and blanks (space, tab, CR, LF) before the first
 * message are skipped. A first line that starts with a `Content-Length:`
 * or `Content-Type:` header (any case) means Content-Length; anything
 * else means NDJSON, so a first line that is not JSON is answered -32700
 * like any other bad line and the JSON lines after it are served. Undefined
 * while only blanks, part of a BOM or part of a header name have arrived.
 */
export function detectFraming(data: Buffer): Detection {
  let start = 0;
  for (;;) {
    const byte = data[start];
    if (byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a) start++;
    else if (byte === BOM[0]) {
      const seen = Math.min(BOM.length, data.length - start);
      for (let i = 1; i < seen; i++) if (data[start + i] !== BOM[i]) return { framing: "ndjson", start };
      if (seen < BOM.length) return { framing: undefined, start };
      start += BOM.length;
    } else if (byte === undefined) return { framing: undefined, start };
    else break;
  }
  let undecided = false;
  for (const name of HEADER_NAMES) {
    const match = prefixMatch(data, start, name);
    if (match === "whole") return { framing: "content-length", start };
    if (match === "partial") undecided = true;
  }
  return { framing: undecided ? undefined : "ndjson", start };
}

/** Whether `data` from `start` begins with `name` (ASCII letters in any case), or ends while it still could. */
function prefixMatch(data: Buffer, start: number, name: Buffer): "whole" | "partial" | "no" {
  for (let i = 0; i < name.length; i++) {
    const byte = data[start + i];
    if (byte === undefined) return "partial";
    const lower = byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
    if (lower !== name[i]) return "no";
  }
  return "whole";
}

/**
 * A stream's first bytes, kept until its framing is known (see
 * {@link detectFraming}): the server's reader and the connect bridge both
 * decide their framing through it.
 */
export class FramingDetector {
  private undecided: Buffer = Buffer.alloc(0);

  /** Feed a chunk: the framing and the bytes from the first message on, once known; undefined while it is not. */
  take(chunk: Buffer): { framing: Framing; rest: Buffer } | undefined {
    const data = this.undecided.length === 0 ? chunk : Buffer.concat([this.undecided, chunk]);
    const { framing, start } = detectFraming(data);
    if (framing === undefined) {
      this.undecided = data.subarray(start);
      return undefined;
    }
    this.undecided = Buffer.alloc(0);
    return { framing, rest: data.subarray(start) };
  }

  /**
   * At the end of the input: what came while the framing was undecided (read as NDJSON), or undefined when nothing did.
   */
  leftover(): Buffer | undefined {
    return this.undecided.length > 0 ? this.undecided : undefined;
  }
}
