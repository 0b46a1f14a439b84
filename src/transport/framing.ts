/** How messages are delimited on a byte stream. */
export type Framing = "ndjson" | "content-length";

/** What a decoder reports: a message's text, or bytes it had to drop and why. */
export interface FrameSink {
  message(text: string): void;
  /** `oversized` is true when the bytes were dropped for exceeding the size limit. */
  malformed(problem: string, oversized: boolean): void;
}

/** Turns a byte stream into message texts, chunk by chunk. */
export interface FrameDecoder {
  push(chunk: Buffer): void;
  /** The input ended: a complete message still held is reported, an incomplete one is malformed. */
  end(): void;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const MAX_HEADER_BYTES = 8192;
/** The longest line end of the blank line that ends a header block (`\r\n\r\n`). */
const HEADER_END_BYTES = 4;

/** How nearly every client writes the header, as bytes: its value and `\r\n\r\n` follow. */
const USUAL_HEADER = Buffer.from("Content-Length: ", "latin1");

/** The header every Content-Length frame carries, in lower case with its colon (headers are matched in any case). */
export const CONTENT_LENGTH_HEADER = "content-length:";

/**
 * Encode one message text for the wire: a line, or `Content-Length: N`, a blank line (`\r\n` line ends) and the text.
 */
export function encodeFrame(framing: Framing, json: string): string {
  return framing === "ndjson" ? `${json}\n` : `Content-Length: ${Buffer.byteLength(json, "utf8")}\r\n\r\n${json}`;
}

/** Where one complete frame lies in a buffer: its body is `[start, end)`, the next frame starts at `next`. */
export interface FrameBounds {
  start: number;
  end: number;
  next: number;
}

/**
 * The first complete frame in `data` from `from`, or undefined while it has
 * not fully arrived. For code that splits a buffer it holds whole (the
 * connect bridge reading its auth reply, the benchmarks' client and raw
 * echo baseline), not for the server's reader: a Content-Length header
 * block is read as the decoder reads it (blank lines before it skipped,
 * lines ending with `\r\n` or `\n`), but a bad one is not reported, it
 * only never completes.
 */
export function frameAt(data: Buffer, framing: Framing, from = 0): FrameBounds | undefined {
  if (framing === "ndjson") {
    const end = data.indexOf(NEWLINE, from);
    return end === -1 ? undefined : { start: from, end, next: end + 1 };
  }
  let start = from;
  while (data[start] === NEWLINE || data[start] === CR) start++;
  const header = headerEnd(data, start);
  if (header === undefined) return undefined;
  const length = contentLength(data.toString("latin1", start, header.block));
  if (typeof length === "string" || data.length < header.body + length) return undefined;
  return { start: header.body, end: header.body + length, next: header.body + length };
}

/** Newline-delimited JSON: one message per line; blank lines and a trailing \r are ignored. */
export class NdjsonDecoder implements FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /**
   * When no line ending in `chunk` can exceed the limit (nearly always), they are decoded at once and the text split:
   * a newline byte is never part of a multi-byte character, so this decodes each line as decoding it alone would.
   */
  push(chunk: Buffer): void {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1 || this.discarding || this.pendingBytes + last > this.maxBytes) {
      this.pushLines(chunk);
      return;
    }
    const text =
      this.pending.length === 0
        ? chunk.toString("utf8", 0, last)
        : Buffer.concat([...this.pending, chunk.subarray(0, last)]).toString("utf8");
    this.reset();
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      this.line(text.slice(start, end));
      start = end + 1;
    }
    this.line(start === 0 ? text : text.slice(start));
    this.hold(chunk, last + 1);
  }

  /** The lines of `chunk` one by one, each checked against the limit in bytes. */
  private pushLines(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end);
      start = end + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      const size = this.pendingBytes + piece.length;
      if (size > this.maxBytes) {
        this.reset();
        this.sink.malformed(
          `a line of ${size} bytes exceeds --max-message-bytes=${this.maxBytes}; it was discarded`,
          true,
        );
        continue;
      }
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.reset();
      this.line(line.toString("utf8"));
    }
    this.hold(chunk, start);
  }

  /** Keep `chunk` from `start` (a line not yet ended), or start discarding a line past the limit. */
  private hold(chunk: Buffer, start: number): void {
    if (start >= chunk.length || this.discarding) return;
    const rest = chunk.subarray(start);
    this.pending.push(rest);
    this.pendingBytes += rest.length;
    if (this.pendingBytes > this.maxBytes) {
      const size = this.pendingBytes;
      this.reset();
      this.discarding = true;
      this.sink.malformed(
        `a line of more than ${size} bytes exceeds --max-message-bytes=${this.maxBytes}; it is being discarded up to ` +
          `the next newline`,
        true,
      );
    }
  }

  private line(text: string): void {
    const trimmed = text.trim();
    if (trimmed !== "") this.sink.message(trimmed);
  }

  /** A last line without its newline is a message like any other. */
  end(): void {
    if (this.discarding || this.pending.length === 0) return;
    const text = Buffer.concat(this.pending).toString("utf8");
    this.reset();
    this.line(text);
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * LSP base protocol: `Content-Length: N\r\n` (other headers allowed),
 * `\r\n`, then N bytes of JSON. Header lines may also end with a bare
 * `\n`, and blank lines before a header block are skipped. A header block
 * without a valid Content-Length is reported and skipped; when junk
 * precedes a header, the decoder resynchronises on the last
 * `Content-Length:` in the block.
 */
export class ContentLengthDecoder implements FrameDecoder {
  /** The bytes not yet consumed are `buffer` from `offset` (frames are read in place, without a view each). */
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** Body length we are collecting, or -1 while reading headers. */
  private bodyLength = -1;
  /** Bytes of an oversized body still to be skipped. */
  private skipping = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: FrameSink,
  ) {}

  push(chunk: Buffer): void {
    if (this.skipping > 0) {
      const skipped = Math.min(this.skipping, chunk.length);
      this.skipping -= skipped;
      chunk = chunk.subarray(skipped);
      if (chunk.length === 0) return;
    }
    this.buffer =
      this.offset === this.buffer.length ? chunk : Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    this.offset = 0;
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.usualHeader()) continue;
        this.compact();
        if (!this.readHeader()) return;
        continue;
      }
      const start = this.offset;
      if (this.buffer.length - start < this.bodyLength) return;
      this.offset += this.bodyLength;
      this.bodyLength = -1;
      this.sink.message(this.buffer.toString("utf8", start, this.offset));
    }
  }

  /**
   * Consume the header block at `offset` when it is written the usual way: `Content-Length: N` alone, `\r\n` line
   * ends, N within the limit. Anything else (other headers, other spellings, blank lines before it, a block not
   * complete yet) is false, for {@link readHeader}.
   */
  private usualHeader(): boolean {
    const buffer = this.buffer;
    let at = this.offset;
    for (let i = 0; i < USUAL_HEADER.length; i++) if (buffer[at + i] !== USUAL_HEADER[i]) return false;
    at += USUAL_HEADER.length;
    const digits = at;
    let length = 0;
    for (let c = buffer[at]; c !== undefined && c >= 48 && c <= 57 && at - digits < 16; c = buffer[++at])
      length = length * 10 + (c - 48);
    if (at === digits || at - digits > 15 || length > this.maxBytes) return false;
    if (buffer[at] !== CR || buffer[at + 1] !== NEWLINE || buffer[at + 2] !== CR || buffer[at + 3] !== NEWLINE)
      return false;
    this.offset = at + HEADER_END_BYTES;
    this.bodyLength = length;
    return true;
  }

  /** Drop the consumed bytes from the buffer (for the code that reads it from its start). */
  private compact(): void {
    if (this.offset === 0) return;
    this.buffer = this.buffer.subarray(this.offset);
    this.offset = 0;
  }

  /** A body or header block cut short by the end of the input is malformed. */
  end(): void {
    this.compact();
    if (this.bodyLength >= 0) {
      this.sink.malformed(`the input ended after ${this.buffer.length} of the ${this.bodyLength} body bytes`, false);
    } else if (this.buffer.toString("latin1").trim() !== "") {
      this.sink.malformed(
        `the input ended inside a header block: ${JSON.stringify(this.buffer.toString("latin1", 0, 80))}`,
        false,
      );
    }
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.bodyLength = -1;
  }

  /** Consume one header block if complete; false when more bytes are needed. */
  private readHeader(): boolean {
    let start = 0;
    while (this.buffer[start] === NEWLINE || this.buffer[start] === CR) start++;
    if (start > 0) this.buffer = this.buffer.subarray(start);
    const end = headerEnd(this.buffer);
    if (end === undefined) {
      if (this.buffer.length > MAX_HEADER_BYTES) {
        this.sink.malformed(
          `no header terminator (a blank line) within ${MAX_HEADER_BYTES} bytes; the bytes were discarded`,
          false,
        );
        this.buffer = this.buffer.subarray(this.buffer.length - (HEADER_END_BYTES - 1));
      }
      return false;
    }
    const block = this.buffer.subarray(0, end.block).toString("latin1");
    this.buffer = this.buffer.subarray(end.body);
    const at = contentLengthAt(block);
    const length = contentLength(block, at);
    if (typeof length === "string") {
      this.sink.malformed(length, false);
      return true;
    }
    const junk = junkBeforeHeader(block, at);
    if (junk !== undefined)
      this.sink.malformed(
        `bytes that are not a header line before a Content-Length header: ${JSON.stringify(junk.slice(0, 80))}`,
        false,
      );
    if (length > this.maxBytes) {
      this.sink.malformed(
        `a body of ${length} bytes exceeds --max-message-bytes=${this.maxBytes}; it was discarded`,
        true,
      );
      const skipped = Math.min(length, this.buffer.length);
      this.buffer = this.buffer.subarray(skipped);
      this.skipping = length - skipped;
      return this.skipping === 0;
    }
    this.bodyLength = length;
    return true;
  }
}

/**
 * Where the header block at `from` in `data` ends (before its last line end) and its body starts (after the blank
 * line); lines end with `\r\n` or `\n`.
 */
function headerEnd(data: Buffer, from = 0): { block: number; body: number } | undefined {
  for (let at = data.indexOf(NEWLINE, from); at !== -1; at = data.indexOf(NEWLINE, at + 1)) {
    const next = data[at + 1];
    if (next === NEWLINE) return { block: at, body: at + 2 };
    if (next === CR && data[at + 2] === NEWLINE) return { block: at, body: at + 3 };
  }
  return undefined;
}

/** A UTF-8 byte-order mark as a header block reads it (latin1): skipped like a blank. */
const BOM_LATIN1 = "\u00ef\u00bb\u00bf";

/** A header line: `Name: value` with a token for a name. */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;

/**
 * What a header block holds before its (last) Content-Length header that
 * is not a header line: bytes a peer sent between frames (a line of JSON,
 * garbage), which are answered as malformed rather than silently skipped.
 */
function junkBeforeHeader(block: string, at: number): string | undefined {
  if (at === 0) return undefined;
  const lineStart = block.lastIndexOf("\n", at) + 1;
  const blank = (text: string) => text.replaceAll(BOM_LATIN1, "").trim() === "";
  const junk = block
    .slice(0, lineStart)
    .split("\n")
    .filter((line) => !blank(line) && !HEADER_LINE.test(line.replaceAll(BOM_LATIN1, "")));
  if (at > lineStart && !blank(block.slice(lineStart, at))) junk.push(block.slice(lineStart, at));
  return junk.length === 0 ? undefined : junk.join("\n");
}

/** Where a header block's last Content-Length header starts (-1 when it has none). */
function contentLengthAt(block: string): number {
  return block.toLowerCase().lastIndexOf(CONTENT_LENGTH_HEADER);
}

/** The Content-Length of a header block whose last Content-Length header starts at `at`, or what is wrong with it. */
function contentLength(block: string, at = contentLengthAt(block)): number | string {
  if (at === -1) return `header block without Content-Length: ${JSON.stringify(block.slice(0, 80))}`;
  for (const line of block.slice(at).split("\n")) {
    const colon = line.indexOf(":");
    if (colon === -1) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    if (line.slice(0, colon).trim().toLowerCase() !== "content-length") continue;
    const value = line.slice(colon + 1).trim();
    if (!/^[0-9]{1,15}$/.test(value))
      return `Content-Length must be a non-negative integer, got ${JSON.stringify(value.slice(0, 40))}`;
    return Number(value);
  }
  return "header block without Content-Length";
}
