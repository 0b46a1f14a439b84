import { parseJson } from "../transport/lossless-json.js";

/**
 * The one reader of snapshot files from text (a snapshot of ours, a
 * `state.json`, harn-hostlib's `snapshot.json`): JSON, with every integer
 * beyond 2^53-1 kept exact as a bigint, as `restore` reads a request.
 * harn-hostlib writes almost every u64 FNV-1a hash as a bare number
 * (`"hash":14695981039346656037`), which JSON.parse would round. Throws a
 * SyntaxError on text that is not JSON.
 */
export function parseSnapshotText(text: string): unknown {
  return parseJson(text);
}

const MAX_EXACT = 2n ** 53n;

/**
 * `value` with every bigint that a double holds exactly (|n| ≤ 2^53: the
 * lossless reader makes 2^53 a bigint) turned back into a number, in place,
 * for the parts of a file beside its snapshot, whose readers expect numbers
 * (a counter such as `waits.next_id` may be 2^53). Larger ones stay bigints,
 * which those readers refuse rather than take rounded.
 */
export function exactNumbers<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    const object = node as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const member = object[key];
      if (typeof member === "bigint") {
        if (member <= MAX_EXACT && member >= -MAX_EXACT) Object.defineProperty(object, key, { value: Number(member), writable: true, enumerable: true, configurable: true });
      } else if (typeof member === "object" && member !== null) stack.push(member);
    }
  }
  return value;
}
