import { parseJson } from "../transport/lossless-json.js";

/**
 * The one reader of snapshot files from text (a snapshot of ours, a
 * `state.json`, harn-hostlib's `snapshot.json`): JSON, with every integer
 * that a double would round kept exact as a bigint, which `restore`
 * accepts as it does in a request. harn-hostlib writes almost every u64
 * FNV-1a hash as a bare number (`"hash":14695981039346656037`), which
 * JSON.parse would round. 2^53, which a double holds exactly (a counter
 * such as `next_id` or `waits.next_id` once 2^53-1 is used), stays a
 * number, as every reader of a state file expects. Throws a SyntaxError on
 * text that is not JSON.
 */
export function parseSnapshotText(text: string): unknown {
  return parseJson(text, { bigintsOnlyWhenRounded: true });
}
