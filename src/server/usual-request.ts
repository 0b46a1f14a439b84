import type { Message } from "vscode-jsonrpc/node";
import { parseJson } from "../transport/lossless-json.js";
import { USUAL_START } from "./request-id.js";

const METHOD_KEY = ',"method":"';
const PARAMS_KEY = '","params":';
const QUOTE = 34;
const BACKSLASH = 92;
const CLOSE_BRACE = 125;

/**
 * The request in `text` when it is written as nearly every client writes
 * one: `{"jsonrpc":"2.0","id":N,"method":"M","params":P}` (or without
 * params), N a plain integer of at most 15 digits (it prints back as sent:
 * see exactId), M without escapes, P any JSON value, no blanks between the
 * members. Then only P goes through parseJson, and the envelope is known
 * valid without checkEnvelope; the message is the one parsing the whole
 * text would give. Anything else is undefined, for the general path. (The
 * members are matched with indexOf, which V8 runs several times faster
 * than startsWith; where it does not match at once it reads on, which
 * costs less than parsing the text in the general path.)
 */
export function usualRequest(text: string): Message | undefined {
  if (text.indexOf(USUAL_START) !== 0 || text.charCodeAt(text.length - 1) !== CLOSE_BRACE) return undefined;
  let at = USUAL_START.length;
  const negative = text.charCodeAt(at) === 45;
  if (negative) at++;
  const digits = at;
  let id = 0;
  for (let c = text.charCodeAt(at); c >= 48 && c <= 57 && at - digits < 16; c = text.charCodeAt(++at))
    id = id * 10 + (c - 48);
  const count = at - digits;
  if (count === 0 || count > 15 || (count > 1 && text.charCodeAt(digits) === 48) || (negative && id === 0))
    return undefined;
  if (text.indexOf(METHOD_KEY, at) !== at) return undefined;
  const methodStart = at + METHOD_KEY.length;
  let methodEnd = methodStart;
  for (let c = text.charCodeAt(methodEnd); c !== QUOTE; c = text.charCodeAt(++methodEnd))
    if (c === BACKSLASH || c < 32 || Number.isNaN(c)) return undefined;
  let params: unknown;
  if (methodEnd + 2 === text.length) params = undefined;
  else if (text.indexOf(PARAMS_KEY, methodEnd) !== methodEnd) return undefined;
  else {
    try {
      params = parseJson(text.slice(methodEnd + PARAMS_KEY.length, -1));
    } catch {
      return undefined;
    }
  }
  return { jsonrpc: "2.0", id: negative ? -id : id, method: text.slice(methodStart, methodEnd), params } as Message;
}
