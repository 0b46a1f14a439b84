import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Snapshot } from "../../protocol/snapshot.js";
import type { ProcessOptions, SavedDelayedLock } from "../core/registry.js";
import type { SavedWaits } from "../core/wait-queue.js";
import { type Entry, parseEntry } from "./entries.js";
import { checkLine } from "./journal-line.js";

/** The compacted state file: a snapshot, the waits pending at that moment, and the journal generation that follows it. */
export const STATE_FILE = "state.json";
export const STATE_FORMAT = "harn-registry-state/1";

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
  snapshot: Snapshot;
}

export function journalFile(generation: number): string {
  return `journal.${generation}.ndjson`;
}

/** A state directory that cannot be loaded; the message names the file (and line) and nothing was changed. */
export class StateFileError extends Error {
  override name = "StateFileError";
}

/** One journal as read: its good entries and where its good part ends. */
export interface JournalRead {
  generation: number;
  path: string;
  entries: Entry[];
  /** Bytes up to the end of the last good line. */
  goodBytes: number;
  /** Bytes of a torn last line (a crash mid-write), dropped. */
  tornBytes: number;
}

/** What a state directory holds: the saved state, the journals from its generation on (in order), and older journals that are no longer needed. */
export interface StateDirRead {
  saved: SavedState | undefined;
  journals: JournalRead[];
  stale: string[];
}

/**
 * Read a state directory without changing it. A torn last line of the last
 * journal (no newline, a checksum that does not match, or NUL bytes left
 * by a crash) is reported as `tornBytes`; anything else that is corrupt
 * throws a {@link StateFileError} naming the file and line.
 */
export function readStateDir(dir: string): StateDirRead {
  const saved = readSaved(join(dir, STATE_FILE));
  const from = saved?.generation ?? 0;
  const generations = journalGenerations(dir).filter((generation) => generation >= from);
  const journals = generations.map((generation, index) => readJournal(join(dir, journalFile(generation)), generation, index === generations.length - 1));
  return { saved, journals, stale: staleJournals(dir, from) };
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

function readSaved(path: string): SavedState | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateFileError(`${path}: cannot be read: ${(error as Error).message}`);
  }
  let value: Partial<SavedState>;
  try {
    value = JSON.parse(text) as Partial<SavedState>;
  } catch (error) {
    throw new StateFileError(`${path}: is not valid JSON (${(error as Error).message}); it was left as it is`);
  }
  if (value.format !== STATE_FORMAT || !Number.isSafeInteger(value.generation) || typeof value.snapshot !== "object" || typeof value.waits !== "object" || typeof value.options !== "object" || !Array.isArray(value.delayed)) {
    throw new StateFileError(`${path}: is not a ${STATE_FORMAT} file (format, generation, options, waits, delayed, snapshot); it was left as it is`);
  }
  const crashed = value.crashedSinceReap;
  if (crashed !== undefined && !(Array.isArray(crashed) && crashed.every((id) => Number.isSafeInteger(id) && id > 0))) {
    throw new StateFileError(`${path}: crashedSinceReap is not a list of agent ids; it was left as it is`);
  }
  return value as SavedState;
}

function readJournal(path: string, generation: number, last: boolean): JournalRead {
  const data = readFileSync(path);
  const entries: Entry[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < data.length) {
    lineNumber++;
    const end = data.indexOf(0x0a, start);
    const tail = end === -1;
    const json = tail ? undefined : checkLine(data.toString("utf8", start, end));
    const entry = json === undefined ? undefined : parseEntry(json);
    if (entry !== undefined && typeof entry !== "string") {
      entries.push(entry);
      start = end + 1;
      continue;
    }
    const restIsTail = tail || end === data.length - 1 || isNulRun(data, end + 1);
    if (last && typeof entry !== "string" && restIsTail) return { generation, path, entries, goodBytes: start, tornBytes: data.length - start };
    const problem = typeof entry === "string" ? entry : tail ? "has no newline" : "fails its checksum";
    throw new StateFileError(`${path} line ${lineNumber}: ${problem} and is not the torn last line of the newest journal; the file was left as it is`);
  }
  return { generation, path, entries, goodBytes: data.length, tornBytes: 0 };
}

function isNulRun(data: Buffer, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
