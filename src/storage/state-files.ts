import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Snapshot } from "../../protocol/snapshot.js";
import type { ProcessOptions, SavedDelayedLock } from "../core/registry.js";
import type { SavedWaits } from "../core/wait-queue.js";
import { CLOSED_FILE, type ClosedMark, readClosedMark } from "./closed-mark.js";
import { type JournalRead, corrupt, readJournal } from "./journal-read.js";
import { parseSnapshotText } from "./snapshot-text.js";
import { StateFileError, readStateText } from "./state-error.js";

/**
 * The file of the saved state: a snapshot, the waits pending at that moment, and the journal generation that follows
 * it.
 */
export const STATE_FILE = "state.json";
export const STATE_FORMAT = "harn-registry-state/1";

/** The saved state: what `state.json` holds. */
export interface SavedState {
  format: typeof STATE_FORMAT;
  generation: number;
  /** The lock-delay and limits in force when the snapshot was taken. */
  options: ProcessOptions;
  waits: SavedWaits;
  /** Locks left by crashed agents for the lock-delay, which a snapshot does not carry. */
  delayed: SavedDelayedLock[];
  /** The agents the next `reap` reports (absent from files written before it was kept). */
  crashedSinceReap?: number[];
  /**
   * The event_seq of the last event before the snapshot: the journal's events are numbered after it (absent from files
   * written before it was kept: 0).
   */
  lastEventSeq?: number;
  snapshot: Snapshot;
}

export function journalFile(generation: number): string {
  return `journal.${generation}.ndjson`;
}

/**
 * What a state directory holds: the saved state, the journals from its generation on (in order), and older journals
 * that are no longer needed.
 */
export interface StateDirRead {
  saved: SavedState | undefined;
  /** Where `saved` was read from (DIR/state.json). */
  savedPath: string;
  journals: JournalRead[];
  stale: string[];
  /** Present when the last writer closed cleanly. */
  closed: ClosedMark | undefined;
}

/**
 * Read a state directory without changing it, refusing (with a
 * StateFileError naming what is missing or damaged) any directory that is
 * not one a writer, or a crash of it at any step, can leave:
 *
 * - nothing at all (a new directory);
 * - `state.json` of generation g, then journals g, g+1, ... with no gap
 *   (a compaction makes journal g+1 before it renames state.json g+1 in;
 *   a crash in between leaves both, and each later recovery may add one);
 *   journals older than g are left over and ignored;
 * - no `state.json`, journals 0, 1, ... with no gap (a directory whose
 *   state.json of generation 0 was not written yet, or was lost: it holds
 *   the empty state, which the replay starts from anyway).
 *
 * A last line without its newline is a write cut by a crash only in the
 * newest journal that holds anything, and only when the last writer did
 * not close cleanly: it is reported as `tornBytes`. After a clean close
 * (`closed.json`) the newest journal must be exactly as long as it was.
 * Anything else damaged throws, naming the file and line.
 */
export function readStateDir(dir: string): StateDirRead {
  const saved = readSaved(join(dir, STATE_FILE));
  const closed = readClosedMark(dir);
  const from = saved?.generation ?? 0;
  const generations = journalGenerations(dir).filter((generation) => generation >= from);
  checkGenerations(dir, saved, generations);
  const journals = generations.map((generation) => readJournal(join(dir, journalFile(generation)), generation));
  checkEnd(dir, journals, closed);
  return { saved, savedPath: join(dir, STATE_FILE), journals, stale: staleJournals(dir, from), closed };
}

/** Journals older than `generation` (a snapshot of that generation covers them). */
export function staleJournals(dir: string, generation: number): string[] {
  return journalGenerations(dir)
    .filter((older) => older < generation)
    .map((older) => join(dir, journalFile(older)));
}

function journalGenerations(dir: string): number[] {
  const generations: number[] = [];
  for (const name of readdirSync(dir)) {
    const match = /^journal\.(\d+)\.ndjson$/.exec(name);
    if (match !== null) generations.push(Number(match[1]));
  }
  return generations.sort((a, b) => a - b);
}

const leftAs = "; the directory was left as it is";

/** The journals from the saved generation on start at it (at 0 without state.json) and have no gap. */
function checkGenerations(dir: string, saved: SavedState | undefined, generations: number[]): void {
  const stateFile = join(dir, STATE_FILE);
  const first = generations[0];
  if (saved === undefined && first !== undefined && first > 0) {
    const journal = join(dir, journalFile(first));
    const follows = `follows the snapshot of generation ${first} it held`;
    throw new StateFileError(`${stateFile} is missing: ${journal} ${follows}${leftAs}`);
  }
  if (saved !== undefined && first !== saved.generation) {
    const journal = join(dir, journalFile(saved.generation));
    const continues = `is of generation ${saved.generation}, which it continues`;
    throw new StateFileError(`${journal} is missing: ${stateFile} ${continues}${leftAs}`);
  }
  generations.forEach((generation, index) => {
    const expected = (first as number) + index;
    if (generation !== expected) {
      const between = `between ${journalFile(expected - 1)} and ${journalFile(generation)}`;
      throw new StateFileError(`${join(dir, journalFile(expected))} is missing, ${between}${leftAs}`);
    }
  });
}

/** Only the newest journal holding anything may end in a cut line, none after a clean close, which fixes its length. */
function checkEnd(dir: string, journals: JournalRead[], closed: ClosedMark | undefined): void {
  const markPath = join(dir, CLOSED_FILE);
  const lastWritten = [...journals].reverse().find((journal) => journal.goodBytes + journal.tornBytes > 0);
  for (const journal of journals) {
    if (journal.tornBytes > 0 && (journal !== lastWritten || closed !== undefined)) {
      const why = closed === undefined ? "not in the newest journal written" : `its writer closed it (${markPath})`;
      const problem = `has no newline, and cannot be a write cut by a crash: ${why}`;
      throw corrupt(journal.path, journal.entries.length + 1, problem);
    }
  }
  if (closed === undefined) return;
  const newest = journals.at(-1);
  if (newest?.generation !== closed.generation) {
    const found = newest === undefined ? "none" : journalFile(newest.generation);
    const last = journalFile(closed.generation);
    const problem = `its writer closed ${last} last, but the newest journal is ${found}`;
    throw new StateFileError(`${markPath}: ${problem}${leftAs}`);
  }
  const size = statSync(newest.path).size;
  if (size !== closed.bytes) {
    const problem = `is ${size} bytes, but its writer closed it at ${closed.bytes} (${markPath}): cut or added to`;
    throw new StateFileError(`${newest.path}: ${problem}${leftAs}`);
  }
}

/** state.json, read losslessly (see parseSnapshotText). */
function readSaved(path: string): SavedState | undefined {
  const text = readStateText(path);
  if (text === undefined) return undefined;
  let value: Partial<SavedState>;
  try {
    value = parseSnapshotText(text) as Partial<SavedState>;
  } catch (error) {
    throw new StateFileError(`${path}: is not valid JSON (${(error as Error).message}); it was left as it is`);
  }
  if (
    value === null ||
    value.format !== STATE_FORMAT ||
    !Number.isSafeInteger(value.generation) ||
    (value.generation as number) < 0 ||
    typeof value.snapshot !== "object" ||
    typeof value.waits !== "object" ||
    typeof value.options !== "object" ||
    !Array.isArray(value.delayed)
  ) {
    throw new StateFileError(
      `${path}: is not a ${STATE_FORMAT} file (format, generation, options, waits, delayed, snapshot); it was left ` +
        `as it is`,
    );
  }
  const crashed = value.crashedSinceReap;
  if (crashed !== undefined && !(Array.isArray(crashed) && crashed.every((id) => Number.isSafeInteger(id) && id > 0))) {
    throw new StateFileError(`${path}: crashedSinceReap is not a list of agent ids; it was left as it is`);
  }
  const lastEventSeq = value.lastEventSeq;
  if (lastEventSeq !== undefined && !(Number.isSafeInteger(lastEventSeq) && lastEventSeq >= 0)) {
    throw new StateFileError(
      `${path}: lastEventSeq is not an event_seq (an integer from 0 to 2^53-1); it was left as it is`,
    );
  }
  return value as SavedState;
}
