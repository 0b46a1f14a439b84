import type { Message } from "vscode-jsonrpc/node";

/**
 * A numeric request id whose JavaScript value does not print back as the
 * token the client sent (`-0`, `1.0`, `1e2`, `1e400`, an integer beyond
 * 2^53-1 that the lossless parser made a bigint): replies carry `token`.
 */
export class RawId {
  constructor(
    readonly token: string,
    readonly value: number | bigint,
  ) {}
}

/** A request id as the server keeps it: a string, a number that prints back as sent, or a {@link RawId}. */
export type RequestId = string | number | RawId;

/** The id's value, for matching a `$/cancelRequest` to its request (ids equal as JSON values match). */
export function idValue(id: RequestId): string | number | bigint {
  return id instanceof RawId ? id.value : id;
}

/** The id as text for a log line. */
export function idText(id: RequestId): string {
  return id instanceof RawId ? id.token : JSON.stringify(id);
}

/** How nearly every client starts a request; the id token follows. */
export const USUAL_START = '{"jsonrpc":"2.0","id":';

/**
 * The id to echo for the numeric id `id` parsed from the object `text`: the
 * number itself when it prints back as its token, else a RawId of the
 * token. The common case costs two prefix comparisons: a message that
 * starts as {@link USUAL_START} with the printed id after it (the first
 * by lastIndexOf from 0, which V8 runs several times faster than
 * startsWith with a prefix this long). Otherwise
 * the top-level members are scanned up to the id. With duplicate "id"
 * members (JSON.parse keeps the last), the first that prints back as the
 * value wins, else the last.
 */
export function exactId(text: string, id: number | bigint): number | RawId {
  const printed = String(id);
  const usual = text.lastIndexOf(USUAL_START, 0) === 0;
  if (typeof id === "number" && usual && text.startsWith(printed, USUAL_START.length)) {
    const next = text.charCodeAt(USUAL_START.length + printed.length);
    if (next === 44 || next === 125 || isBlank(next)) return id;
  }
  const token = idToken(text, printed);
  if (typeof id === "number" && (token === undefined || token === printed)) return id;
  return new RawId(token === undefined ? printed : copied(token), id);
}

/**
 * A copy of a numeric token (ASCII) sliced from a message's text: a slice would keep alive the whole input chunk the
 * text was decoded from (see NdjsonDecoder) for as long as a waiting request holds its id.
 */
const copied = (token: string): string => Buffer.from(token, "latin1").toString("latin1");

/**
 * JSON text of the reply to request `id` with `result` (undefined is null), as JSON.stringify writes the envelope;
 * with `line`, followed by a newline (an NDJSON frame, made in the same concatenation).
 */
export function replyJson(id: RequestId, result: unknown, line = false): string {
  const idJson = typeof id === "number" ? String(id) : id instanceof RawId ? id.token : JSON.stringify(id);
  const resultJson = result === undefined ? "null" : JSON.stringify(result);
  return line
    ? `{"jsonrpc":"2.0","id":${idJson},"result":${resultJson}}\n`
    : `{"jsonrpc":"2.0","id":${idJson},"result":${resultJson}}`;
}

/** JSON text of an outgoing message; a RawId id is written as its token. */
export function stringifyMessage(message: Message): string {
  const { id } = message as { id?: unknown };
  if (!(id instanceof RawId)) return JSON.stringify(message);
  const { jsonrpc: _jsonrpc, id: _id, ...rest } = message as unknown as Record<string, unknown>;
  return `{"jsonrpc":"2.0","id":${id.token},${JSON.stringify(rest).slice(1)}`;
}

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * The token of the top-level "id" member of the JSON object `text` (known to be valid JSON): the first equal to
 * `printed`, else the last.
 */
function idToken(text: string, printed: string): string | undefined {
  let last: string | undefined;
  let at = skipBlanks(text, 0);
  if (text.charCodeAt(at) !== 123) return undefined;
  for (at = skipBlanks(text, at + 1); text.charCodeAt(at) === QUOTE; at = skipBlanks(text, at + 1)) {
    const keyEnd = stringEnd(text, at);
    const isId =
      keyEnd - at === 3
        ? text.charCodeAt(at + 1) === 105 && text.charCodeAt(at + 2) === 100
        : isEscapedId(text, at, keyEnd);
    const valueStart = skipBlanks(text, skipBlanks(text, keyEnd + 1) + 1);
    const valueEnd = valueEndAt(text, valueStart);
    if (isId) {
      if (valueEnd - valueStart === printed.length && text.startsWith(printed, valueStart)) return printed;
      last = text.slice(valueStart, valueEnd);
    }
    at = skipBlanks(text, valueEnd);
    if (text.charCodeAt(at) !== 44) break;
  }
  return last;
}

const isBlank = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function skipBlanks(text: string, at: number): number {
  while (isBlank(text.charCodeAt(at))) at++;
  return at;
}

/** The index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return text.length;
}

/** Whether the key string text[start..end] spells "id" with escapes (`"\u0069d"`; 12 characters at most). */
function isEscapedId(text: string, start: number, end: number): boolean {
  if (end - start > 13) return false;
  for (let i = start + 1; i < end; i++)
    if (text.charCodeAt(i) === BACKSLASH) return JSON.parse(text.slice(start, end + 1)) === "id";
  return false;
}

const isDelimiter = (c: number) => c === 44 || c === 125 || c === 93 || isBlank(c);

/** The end of the value starting at `start`: a string, an object or array (nesting counted), or a bare token. */
function valueEndAt(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start) + 1;
  if (first !== 123 && first !== 91) {
    let i = start;
    while (i < text.length && !isDelimiter(text.charCodeAt(i))) i++;
    return i;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
  }
  return text.length;
}
