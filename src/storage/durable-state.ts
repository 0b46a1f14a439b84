import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, truncateSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { Registry, type RegistryOptions, processOptionsOf } from "../core/registry.js";
import { replayEntry } from "./entries.js";
import { Journal } from "./journal.js";
import { type JournaledStore, journaledStore } from "./journaled-store.js";
import { PinnedClock } from "./pinned-clock.js";
import { STATE_FILE, STATE_FORMAT, type SavedState, type StateDirRead, journalFile, readStateDir, staleJournals } from "./state-files.js";
import { lockStateDir } from "./writer-lock.js";

/** Options of {@link openDurableState}. */
export interface DurableOptions {
  dir: string;
  /** Registry options; `now` is the live clock. */
  registry: RegistryOptions;
  /** Compact (new snapshot, new journal) once the journal passes this many bytes. */
  compactBytes: number;
  log(line: string): void;
  /** The journal can no longer be written (disk full, I/O error, writer lock lost): nothing more can be acknowledged. */
  onFatal(error: Error): void;
}

/** A registry kept in a state directory. */
export interface DurableState {
  store: JournaledStore;
  journal: Journal;
  /** What recovery found, for the log. */
  recovered: { generation: number; entries: number; tornBytes: number };
  /** The journal's generation and counters since start. */
  stats(): { generation: number; lines: number; writes: number; fsyncs: number; bytes: number };
  /** Write what is pending, finish a running compaction, release the directory. */
  close(): Promise<void>;
}

/**
 * Open (creating it if needed) a state directory: become its one writer,
 * load the saved snapshot, replay the journals after it, drop a torn last
 * line, record this process's lock-delay and limits, cancel the waits
 * nobody is left to hear, and reap at the current time (the seed's
 * reap_after_recovery), all journaled. Throws a
 * StateFileError, changing nothing, when the directory is corrupt or held.
 */
export async function openDurableState(options: DurableOptions): Promise<DurableState> {
  mkdirSync(options.dir, { recursive: true });
  const unlock = await lockStateDir(options.dir, (error) => options.onFatal(new Error(`lost the writer lock of ${options.dir}: ${error.message}`)));
  try {
    return new StateDirectory(options, readStateDir(options.dir), unlock).state;
  } catch (error) {
    unlock();
    throw error;
  }
}

/** Replay a state directory's files into a fresh registry without touching them (also for read-only views). */
export function replayStateDir(read: StateDirRead, clock: PinnedClock, options: RegistryOptions): { registry: Registry; entries: number } {
  const start = read.saved?.snapshot.taken_at_ms ?? read.journals[0]?.entries[0]?.t;
  if (start !== undefined) clock.pin(start);
  const registry = new Registry({ ...options, now: clock.now });
  if (read.saved !== undefined) {
    registry.configure(read.saved.options);
    registry.restore(read.saved.snapshot);
    registry.loadDelayed(read.saved.delayed);
    registry.loadCrashedSinceReap(read.saved.crashedSinceReap ?? []);
    registry.loadWaits(read.saved.waits, () => () => {});
  }
  clock.unpin();
  let entries = 0;
  for (const journal of read.journals) {
    for (const entry of journal.entries) {
      clock.pin(entry.t);
      replayEntry(registry, entry);
      clock.unpin();
    }
    entries += journal.entries.length;
  }
  return { registry, entries };
}

class StateDirectory {
  readonly state: DurableState;
  private generation: number;
  private compacting: Promise<void> | undefined;
  private readonly registry: Registry;
  private readonly journal: Journal;
  private readonly store: JournaledStore;

  constructor(
    private readonly options: DurableOptions,
    read: StateDirRead,
    unlock: () => void,
  ) {
    const { dir, log } = options;
    const clock = new PinnedClock(options.registry.now);
    const { registry, entries } = replayStateDir(read, clock, options.registry);
    this.registry = registry;
    const newest = read.journals.at(-1);
    if (newest !== undefined && newest.tornBytes > 0) {
      log(`${newest.path}: dropped a torn last line (${newest.tornBytes} bytes) left by a crash`);
      truncateSync(newest.path, newest.goodBytes);
    }
    for (const path of read.stale) rmSync(path, { force: true });
    this.generation = newest?.generation ?? read.saved?.generation ?? 0;
    const fd = openSync(join(dir, journalFile(this.generation)), "a");
    syncDirectory(dir);
    this.journal = new Journal(fd, newest?.goodBytes ?? 0, {
      onFailure: options.onFatal,
      onBatchDone: () => this.compactIfLarge(),
    });
    this.store = journaledStore(registry, this.journal, clock);
    this.store.configure(processOptionsOf(options.registry));
    for (const wait of registry.saveWaits().waits) this.store.cancelWait(wait.id);
    this.store.tick();
    this.state = {
      store: this.store,
      journal: this.journal,
      recovered: { generation: this.generation, entries, tornBytes: newest?.tornBytes ?? 0 },
      stats: () => ({ generation: this.generation, ...this.journal.counts }),
      close: async () => {
        for (await this.journal.flushed(); this.compacting !== undefined; await this.journal.flushed()) await this.compacting;
        await this.journal.close();
        unlock();
      },
    };
  }

  private compactIfLarge(): void {
    if (this.compacting !== undefined || this.journal.bytes < this.options.compactBytes) return;
    this.compacting = this.compact()
      .catch((error: unknown) => this.options.onFatal(error as Error))
      .finally(() => (this.compacting = undefined));
  }

  /** New snapshot and journal: the snapshot covers every line of the old journal; later lines go to the new one. */
  private async compact(): Promise<void> {
    const dir = this.options.dir;
    const snapshot = this.store.snapshot();
    const saved: SavedState = { format: STATE_FORMAT, generation: this.generation + 1, options: this.registry.processOptions(), waits: this.registry.saveWaits(), delayed: this.registry.saveDelayed(), crashedSinceReap: this.registry.saveCrashedSinceReap(), snapshot };
    this.generation = saved.generation;
    const next = openSync(join(dir, journalFile(saved.generation)), "wx");
    syncDirectory(dir);
    this.journal.rotate(next);
    const temporary = join(dir, `${STATE_FILE}.tmp`);
    const handle = await open(temporary, "w");
    try {
      await handle.writeFile(JSON.stringify(saved));
      await handle.sync();
    } finally {
      await handle.close();
    }
    renameSync(temporary, join(dir, STATE_FILE));
    syncDirectory(dir);
    for (const path of staleJournals(dir, saved.generation)) rmSync(path, { force: true });
    this.options.log(`compacted ${dir}: generation ${saved.generation}`);
  }
}

/** fsync a directory, so that a file created, renamed or removed in it stays so after a crash. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
