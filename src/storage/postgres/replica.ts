import { DomainError } from "../../core/errors.js";
import type { Registry, RegistryOptions } from "../../core/registry.js";
import { registryFromSaved, savedStateOf } from "../durable-state.js";
import { type Entry, replayEntry } from "../entries.js";
import { PinnedClock } from "../pinned-clock.js";
import type { SavedState } from "../state-files.js";
import { opOfJournalName } from "../store-ops.js";
import type { LogEntry, SavedRow } from "./pg-log.js";

/**
 * This sidecar's copy of the registry: the newest snapshot of the log and
 * every entry after it, applied in order, each with the clock pinned to
 * its `t`. `position` is the seq of the last entry applied, `time` the
 * latest time the replica has run at (never moves back, never ahead of
 * what the log allows).
 */
export class Replica {
  readonly registry: Registry;
  readonly clock: PinnedClock;
  position: number;
  time: number;
  /** Entries applied since start. */
  applied = 0;

  constructor(saved: SavedRow | undefined, options: RegistryOptions) {
    // Between calls the replica stays at its own time: a synchronous read of it (the view) never applies a deadline
    // the log has not reached.
    this.clock = new PinnedClock(() => this.time);
    const state = saved === undefined ? undefined : (JSON.parse(saved.state) as SavedState);
    if (saved !== undefined) this.clock.pin(saved.t);
    this.registry = registryFromSaved(state, options, this.clock, `the snapshot at seq ${saved?.seq}`);
    this.clock.unpin();
    this.position = saved?.seq ?? 0;
    this.time = saved?.t ?? 0;
  }

  /** Run `body` with the clock at `t` (not before the replica's time). */
  at<T>(t: number, body: () => T): T {
    if (t > this.time) this.time = t;
    this.clock.pin(this.time);
    try {
      return body();
    } finally {
      this.clock.unpin();
    }
  }

  /** Apply another sidecar's entry (or one of this sidecar's that nobody waits for) as a replay does. */
  replay(row: LogEntry): void {
    this.follow(row);
    this.at(row.t, () => replayEntry(this.registry, entryOf(row)));
  }

  /** Apply this sidecar's own entry with the call's real arguments: `apply` is the prepared call. */
  own<T>(row: LogEntry, apply: () => T): T {
    this.follow(row);
    return this.at(row.t, apply);
  }

  /** The saved state of the replica at its position, as a snapshot row. */
  saved(): SavedRow {
    const state = this.at(this.time, () => savedStateOf(this.registry, this.position, this.registry.snapshot()));
    return { seq: this.position, t: this.time, state: JSON.stringify(state) };
  }

  /** Check that `row` comes right after the position (a gap: the entries were compacted away), and move to it. */
  private follow(row: LogEntry): void {
    if (row.seq !== this.position + 1) {
      throw new DomainError(
        "store_unavailable",
        `the log continues at seq ${row.seq} but this sidecar is at ${this.position}: the entries between were ` +
          "compacted away; restart the sidecar to load the newest snapshot",
      );
    }
    this.position = row.seq;
    this.applied++;
  }
}

/** The journal entry a log row holds. */
export function entryOf(row: LogEntry): Entry {
  const op = opOfJournalName(row.op);
  if (op === undefined) throw new Error(`log entry ${row.seq} names an unknown operation ${JSON.stringify(row.op)}`);
  return { t: row.t, op, a: JSON.parse(row.a) as unknown[] };
}
