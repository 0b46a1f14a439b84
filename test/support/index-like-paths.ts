// Paths that a JS object would list out of code-unit order: array-index
// keys ("0" to "4294967294") come first, in numeric order, whatever order
// they were added in. Snapshots promise code-unit order for every map keyed
// by path; these check it in the bytes written.
import type { Json } from "./wire-frames.js";

/** Integer-like paths (array indexes, and near misses that are not: "01", "1a", "4294967295") and a plain one. */
export const INDEX_LIKE_PATHS = ["9", "10", "1a", "01", "4294967295", "4294967294", "0", "a"];

/** {@link INDEX_LIKE_PATHS} in code-unit order: "0", "01", "10", "1a", "4294967294", "4294967295", "9", "a". */
export const IN_CODE_UNIT_ORDER = [...INDEX_LIKE_PATHS].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The JSON text of an object with `keys` in that order, each with its value in `map` (a parsed map: its own order does
 * not matter).
 */
export function mapText(keys: string[], map: Record<string, unknown>): string {
  return `{${keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(map[key])}`).join(",")}}`;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Every path map of `snapshot` (parsed: its own key order does not matter) as the JSON text the documented order gives:
 * `"locked_paths":{…}` and `"lock_fences":{…}` of each agent, then `"history":{…}`.
 */
export function orderedMapTexts(snapshot: Json): string[] {
  const texts: string[] = [];
  for (const agent of snapshot.agents.agents) {
    const paths = Object.keys(agent.locked_paths).sort(byCodeUnit);
    texts.push(
      `"locked_paths":${mapText(paths, agent.locked_paths)}`,
      `"lock_fences":${mapText(paths, agent.lock_fences)}`,
    );
  }
  texts.push(
    `"history":${mapText(Object.keys(snapshot.versions.history).sort(byCodeUnit), snapshot.versions.history)}`,
  );
  return texts;
}

/**
 * The path maps of `snapshot` that `text` (the bytes written: a reply, a file, a journal line) does not write in
 * code-unit order; [] when all are.
 */
export function mapsOutOfOrder(text: string, snapshot: any): string[] {
  return orderedMapTexts(snapshot).filter((map) => !text.includes(map));
}
