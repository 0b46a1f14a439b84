/** The marker as it appears in JSON text (an escape) and as the parsed string (a real NUL). */
interface Marker {
  text: string;
  parsed: string;
}
let madeMarker: Marker | undefined;

/** The marker, made on first use: Node's crypto (for its nonce) loads only when a message has a 16-digit number. */
function marker(): Marker {
  if (madeMarker === undefined) {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
    madeMarker = { text: `\\u0000bigint:${nonce}:`, parsed: `\u0000bigint:${nonce}:` };
  }
  return madeMarker;
}

/**
 * A number token of 16 digits or more, where a value can start (text start, after `:`, `,` or `[` and blanks): no such
 * token can be missed, and digits inside strings (a hash as a decimal string) mostly do not match.
 */
const maybeBig = /(?:^|[:,[])[ \t\n\r]*-?[0-9]{16}/;

/** Options of {@link parseJson}. */
export interface ParseOptions {
  /**
   * Make bigints of only the integers a double would round: 2^53 and -2^53, which it holds exactly, stay numbers
   * (default: every integer beyond 2^53-1 is a bigint).
   */
  bigintsOnlyWhenRounded?: boolean;
}

/**
 * JSON.parse that keeps integers beyond 2^53-1 exact as bigint (a Rust host
 * sends a u64 FNV-1a hash as a bare number); every other number parses as
 * JSON.parse parses it, and any depth of nesting JSON.parse takes is taken.
 * The common case — no value that starts with 16 digits (a u64 written as
 * a decimal string does not) — is plain JSON.parse.
 * Otherwise each integer token (no fraction, no exponent) beyond 2^53-1
 * outside a string is wrapped in a marked string, and the marked strings
 * are turned into bigints by a walk without recursion; the marker holds a
 * NUL and a per-process nonce, which no valid message text can produce by
 * accident.
 */
export function parseJson(text: string, options: ParseOptions = {}): unknown {
  if (!hasLongDigitRun(text) || !maybeBig.test(text)) return JSON.parse(text);
  const marked = markBigIntegers(text, options.bigintsOnlyWhenRounded === true);
  return marked === text ? JSON.parse(text) : restoreBigIntegers(JSON.parse(marked));
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Whether `text` has a run of 16 digits or more, which {@link maybeBig} needs: such a run covers one of every 16
 * positions, so only those are looked at (the regex alone reads every character, several times slower).
 */
function hasLongDigitRun(text: string): boolean {
  for (let at = 15; at < text.length; at += 16) {
    if (!isDigit(text.charCodeAt(at))) continue;
    let start = at;
    let end = at + 1;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    while (isDigit(text.charCodeAt(end))) end++;
    if (end - start >= 16) return true;
  }
  return false;
}

/**
 * The text with every integer token beyond 2^53-1 outside strings (but ±2^53 when `onlyRounded`) replaced by a marked
 * string.
 */
function markBigIntegers(text: string, onlyRounded: boolean): string {
  const markerText = marker().text;
  let out = "";
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i = stringEnd(text, i);
      continue;
    }
    if (c !== 45 && !isDigit(c)) continue;
    const end = numberEnd(text, i);
    if (end - i >= 16 && isBigInteger(text, i, end) && !(onlyRounded && isTwoTo53(text, i, end))) {
      out += `${text.slice(copied, i)}"${markerText}${text.slice(i, end)}"`;
      copied = end;
    }
    i = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  return text.length;
}

/** The end of the number token at `start` as JSON's grammar reads it: `-? int (. digits)? ([eE] [+-]? digits)?`. */
function numberEnd(text: string, start: number): number {
  let i = start;
  if (text.charCodeAt(i) === 45) i++;
  while (isDigit(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === 46) {
    i++;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/** Whether text[start, end) is a valid JSON integer (no fraction, no exponent, no leading zero) beyond 2^53-1. */
function isBigInteger(text: string, start: number, end: number): boolean {
  const digits = text.charCodeAt(start) === 45 ? start + 1 : start;
  if (digits === end || text.charCodeAt(digits) === 48) return false;
  for (let i = digits; i < end; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return !Number.isSafeInteger(Number(text.slice(start, end)));
}

/** Whether text[start, end) is 2^53 or -2^53, the integers beyond 2^53-1 that a double holds exactly. */
function isTwoTo53(text: string, start: number, end: number): boolean {
  const digits = text.charCodeAt(start) === 45 ? start + 1 : start;
  return end - digits === 16 && text.startsWith("9007199254740992", digits);
}

/** Turn the marked strings of a parsed value into bigints, with an explicit stack (any depth). */
function restoreBigIntegers(root: unknown): unknown {
  const prefix = marker().parsed;
  if (typeof root === "string") return root.startsWith(prefix) ? BigInt(root.slice(prefix.length)) : root;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const value: unknown = node[i];
        if (typeof value === "string") {
          if (value.startsWith(prefix)) node[i] = BigInt(value.slice(prefix.length));
        } else if (typeof value === "object" && value !== null) stack.push(value);
      }
      continue;
    }
    const object = node as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (key.startsWith(prefix))
        throw new SyntaxError(`Unexpected number ${key.slice(prefix.length)} in JSON: an object key must be a string`);
      const value = object[key];
      if (typeof value === "string") {
        if (value.startsWith(prefix))
          Object.defineProperty(object, key, {
            value: BigInt(value.slice(prefix.length)),
            writable: true,
            enumerable: true,
            configurable: true,
          });
      } else if (typeof value === "object" && value !== null) stack.push(value);
    }
  }
  return root;
}
