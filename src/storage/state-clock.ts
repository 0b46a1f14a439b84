import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { STATE_FILE, type StateDirRead } from "./state-files.js";

/**
 * How long after the time it records a record of a `--clock=system` writer
 * can reach its file: a group commit waits for the fsync before it, a
 * compaction writes and fsyncs a large state.json after its snapshot.
 */
const WRITE_DELAY_MS = 60_000;

/** The time a read-only view of a state directory judges deadlines by, and whose clock that is. */
export interface StateClock {
  /** `system`: the writer's clock is the wall clock. `manual`: it stands where the state last recorded it. */
  kind: "system" | "manual";
  nowMs: number;
}

/**
 * When the records of a state directory were last written to: the newest modification time of state.json and the
 * journals, taken before they are read.
 */
export function lastWrittenMs(dir: string): number | undefined {
  let newest: number | undefined;
  for (const name of readdirSync(dir)) {
    if (name !== STATE_FILE && !/^journal\.\d+\.ndjson$/.test(name)) continue;
    const mtime = statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs;
    if (mtime !== undefined && (newest === undefined || mtime > newest)) newest = mtime;
  }
  return newest;
}

/** The last time the state recorded: its newest journal entry's `t`, else its snapshot's `taken_at_ms`. */
export function lastRecordedMs(read: StateDirRead): number | undefined {
  for (let i = read.journals.length - 1; i >= 0; i--) {
    const last = read.journals[i]?.entries.at(-1);
    if (last !== undefined) return last.t;
  }
  return read.saved?.snapshot.taken_at_ms;
}

/**
 * The clock a read-only view of a state directory should judge expiry by:
 * the one its writer runs on, which the directory does not name. Every
 * entry carries the time its call ran at, and a writer records one at its
 * start and on every `clock_set` (a tick), so the state's own clock is its
 * last recorded time. A `--clock=system` writer records wall-clock times:
 * its last record, written at `writtenMs` (taken before reading), carries
 * a time at most {@link WRITE_DELAY_MS} older, and none later than now;
 * the view judges by the wall clock, as the writer does. A record whose
 * time is anything else was made on a `--clock=manual` writer's clock (or
 * the files were copied or touched since): the writer's clock stands at
 * that time until its next `clock_set`, and the view judges by it, instead
 * of crashing every agent for decades of silence.
 */
export function stateClock(read: StateDirRead, writtenMs: number | undefined, wallNowMs: number): StateClock {
  const recorded = lastRecordedMs(read);
  if (recorded === undefined || writtenMs === undefined) return { kind: "system", nowMs: wallNowMs };
  const onWallClock = recorded >= writtenMs - WRITE_DELAY_MS && recorded <= wallNowMs + WRITE_DELAY_MS;
  return onWallClock ? { kind: "system", nowMs: Math.max(wallNowMs, recorded) } : { kind: "manual", nowMs: recorded };
}
