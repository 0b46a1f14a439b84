import { rmSync } from "node:fs";
import { join } from "node:path";
import { replaceFileSync } from "./files.js";
import { StateFileError, readStateText } from "./state-error.js";

/** Written by a writer that closed cleanly; removed (durably) by the next one before it writes. */
export const CLOSED_FILE = "closed.json";

/** Where a writer that closed cleanly left the newest journal: its generation and length. */
export interface ClosedMark {
  generation: number;
  bytes: number;
}

/**
 * The mark in `dir`, or undefined when the last writer did not close
 * cleanly (or none has written yet). A journal whose writer closed cleanly
 * has no torn line and must be exactly as long as the mark says: anything
 * else was done to it since.
 */
export function readClosedMark(dir: string): ClosedMark | undefined {
  const path = join(dir, CLOSED_FILE);
  const text = readStateText(path);
  if (text === undefined) return undefined;
  let mark: Partial<ClosedMark> | undefined;
  try {
    mark = JSON.parse(text) as Partial<ClosedMark>;
  } catch {
    mark = undefined;
  }
  const fields = typeof mark === "object" && mark !== null ? [mark.generation, mark.bytes] : [];
  if (fields.length === 0 || !fields.every(Number.isSafeInteger)) {
    throw new StateFileError(`${path}: is not a {generation, bytes} mark of a clean close; it was left as it is`);
  }
  return mark as ClosedMark;
}

/** Say, durably, that the newest journal was closed cleanly at this length. */
export function writeClosedMark(dir: string, mark: ClosedMark): void {
  replaceFileSync(join(dir, CLOSED_FILE), `${JSON.stringify(mark)}\n`);
}

/** Remove the mark; the caller fsyncs the directory before writing the journal. */
export function removeClosedMark(dir: string): void {
  rmSync(join(dir, CLOSED_FILE), { force: true });
}
