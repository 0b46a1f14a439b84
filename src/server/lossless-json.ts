import { randomBytes } from "node:crypto";

const nonce = randomBytes(8).toString("hex");
/** The marker as it appears in JSON text (an escape) and as the parsed string (a real NUL). */
const markerText = `\\u0000bigint:${nonce}:`;
const marker = `\u0000bigint:${nonce}:`;
const maybeBig = /[0-9]{16}/;

/**
 * JSON.parse that keeps integers beyond 2^53-1 exact as bigint (a Rust host
 * sends a u64 FNV-1a hash as a bare number). The common case — no run of 16
 * digits anywhere — is plain JSON.parse. Otherwise each such integer token
 * outside a string is wrapped in a marked string and turned into a bigint by
 * the reviver; the marker holds a NUL and a per-process nonce, which no
 * valid message text can produce by accident.
 */
export function parseJson(text: string): unknown {
  if (!maybeBig.test(text)) return JSON.parse(text);
  const marked = markBigIntegers(text);
  if (marked === text) return JSON.parse(text);
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(marker) ? BigInt(value.slice(marker.length)) : value,
  );
}

function markBigIntegers(text: string): string {
  let out = "";
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    const isMinus = c === 45;
    if (!isMinus && (c < 48 || c > 57)) continue;
    let end = i + (isMinus ? 1 : 0);
    while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
    const next = text.charCodeAt(end);
    const isInteger = next !== 46 && next !== 101 && next !== 69;
    const token = text.slice(i, end);
    if (isInteger && !Number.isSafeInteger(Number(token)) && /^-?(0|[1-9][0-9]*)$/.test(token)) {
      out += `${text.slice(copied, i)}"${markerText}${token}"`;
      copied = end;
    }
    i = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
