import { mkdirSync, openSync, rmSync, truncateSync } from "node:fs";
import { join } from "node:path";
import type { Snapshot } from "../../protocol/snapshot.js";
import { InvalidInputError } from "../core/errors.js";
import { Registry, type RegistryOptions, processOptionsOf } from "../core/registry.js";
import { removeClosedMark, writeClosedMark } from "./closed-mark.js";
import { replayEntry } from "./entries.js";
import { replaceFile, replaceFileSync, syncDirectory } from "./files.js";
import { Journal } from "./journal.js";
import { chainSeed } from "./journal-line.js";
import { type JournaledStore, journaledStore } from "./journaled-store.js";
import { PinnedClock } from "./pinned-clock.js";
import { STATE_FILE, STATE_FORMAT, type SavedState, type StateDirRead } from "./state-files.js";
import { journalFile, readStateDir, staleJournals } from "./state-files.js";
import { StateFileError } from "./state-error.js";
import { lockStateDir } from "./writer-lock.js";

/** Options of {@link openDurableState}. */
export interface DurableOptions {
  dir: string;
  /** Registry options; `now` is the live clock. */
  registry: RegistryOptions;
  /** Compact (new snapshot, new journal) once the journal passes this many bytes. */
  compactBytes: number;
  log(line: string): void;
  /**
   * The journal can no longer be written (disk full, I/O error, writer lock lost): nothing more can be acknowledged.
   */
  onFatal(error: Error): void;
}

/**
 * Open (creating it if needed) a state directory: become its one writer,
 * load the saved snapshot, replay the journals after it, drop a line cut
 * by a crash (see readStateDir), record this process's lock-delay and
 * limits, cancel the waits nobody is left to hear, and reap at the current
 * time (the seed's reap_after_recovery), all journaled. A new directory
 * gets a state.json of generation 0 at once, so that every directory a
 * writer has opened holds one. Closing writes `closed.json`. Throws a
 * StateFileError, changing nothing, when the directory is damaged,
 * incomplete or held.
 */
export async function openDurableState(options: DurableOptions): Promise<DurableState> {
  mkdirSync(options.dir, { recursive: true });
  const lost = (error: Error) => options.onFatal(new Error(`lost the writer lock of ${options.dir}: ${error.message}`));
  const unlock = await lockStateDir(options.dir, lost);
  try {
    return new DurableState(options, readStateDir(options.dir), unlock);
  } catch (error) {
    unlock();
    throw error;
  }
}

/**
 * Replay a state directory's files into a fresh registry without touching
 * them (also for read-only views). The events are numbered as they were
 * when they happened: after the saved state's last event, each journal
 * entry makes the events it made then, so the registry's event log holds
 * the events since the snapshot, under their own numbers.
 */
export function replayStateDir(
  read: StateDirRead,
  clock: PinnedClock,
  options: RegistryOptions,
): { registry: Registry; entries: number } {
  const start = read.saved?.snapshot.taken_at_ms ?? read.journals[0]?.entries[0]?.t;
  if (start !== undefined) clock.pin(start);
  const registry = registryFromSaved(read.saved, options, clock, read.savedPath);
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

/**
 * Durable state: the registry kept in a state directory, with this process
 * as the directory's one writer. Every change goes through `store` into the
 * journal; `state.json` holds the saved state (a snapshot and what the
 * registry keeps beside it) of the generation the journals continue.
 */
export class DurableState {
  /** The registry, every change journaled before it is made. */
  readonly store: JournaledStore;
  /** The journal replies wait for (see Durability). */
  readonly journal: Journal;
  /** What recovery found, for the log. */
  readonly recovered: { generation: number; entries: number; tornBytes: number };
  private generation: number;
  private compacting: Promise<void> | undefined;
  private readonly registry: Registry;

  constructor(
    private readonly options: DurableOptions,
    read: StateDirRead,
    private readonly unlock: () => void,
  ) {
    const { dir, log } = options;
    const clock = new PinnedClock(options.registry.now);
    const { registry, entries } = replayStateDir(read, clock, options.registry);
    this.registry = registry;
    const isNew = read.saved === undefined && read.journals.length === 0;
    const initial = isNew ? this.savedState(0, registry.snapshot()) : undefined;
    let tornBytes = 0;
    for (const journal of read.journals.filter((each) => each.tornBytes > 0)) {
      log(`${journal.path}: dropped a torn last line (${journal.tornBytes} bytes) left by a crash`);
      truncateSync(journal.path, journal.goodBytes);
      tornBytes += journal.tornBytes;
    }
    for (const path of read.stale) rmSync(path, { force: true });
    if (read.closed !== undefined) removeClosedMark(dir);
    const newest = read.journals.at(-1);
    this.generation = newest?.generation ?? 0;
    const fd = openSync(join(dir, journalFile(this.generation)), "a");
    syncDirectory(dir);
    this.journal = new Journal(fd, newest?.goodBytes ?? 0, newest?.chain ?? chainSeed(this.generation), {
      onFailure: options.onFatal,
      onBatchDone: () => this.compactIfLarge(),
    });
    if (initial !== undefined) replaceFileSync(join(dir, STATE_FILE), JSON.stringify(initial));
    this.store = journaledStore(registry, this.journal, clock);
    this.store.setProcessOptions(processOptionsOf(options.registry));
    for (const wait of registry.saveWaits().waits) this.store.cancelWait(wait.id);
    this.store.tick();
    this.recovered = { generation: this.generation, entries, tornBytes };
  }

  /** The journal's generation and counters since start. */
  stats(): { generation: number; lines: number; writes: number; fsyncs: number; bytes: number } {
    return { generation: this.generation, ...this.journal.counts };
  }

  /** Write what is pending, finish a running compaction, write `closed.json`, release the directory. */
  async close(): Promise<void> {
    for (await this.journal.flushed(); this.compacting !== undefined; await this.journal.flushed())
      await this.compacting;
    await this.journal.close();
    writeClosedMark(this.options.dir, { generation: this.generation, bytes: this.journal.bytes });
    this.unlock();
  }

  /** What state.json of `generation` holds: `snapshot` and what the registry keeps beside it. */
  private savedState(generation: number, snapshot: Snapshot): SavedState {
    return savedStateOf(this.registry, generation, snapshot);
  }

  private compactIfLarge(): void {
    if (this.compacting !== undefined || this.journal.bytes < this.options.compactBytes) return;
    this.compacting = this.compact()
      .catch((error: unknown) => this.options.onFatal(error as Error))
      .finally(() => (this.compacting = undefined));
  }

  /**
   * New snapshot and journal: the snapshot covers every line of the old
   * journal; later lines go to the new one, created (and its directory
   * entry fsynced) before state.json is replaced; older journals are
   * removed last. See readStateDir for the layouts a crash can leave.
   */
  private async compact(): Promise<void> {
    const dir = this.options.dir;
    const saved = this.savedState(this.generation + 1, this.store.snapshot());
    this.generation = saved.generation;
    const next = openSync(join(dir, journalFile(saved.generation)), "wx");
    syncDirectory(dir);
    this.journal.rotate(next, saved.generation);
    await replaceFile(join(dir, STATE_FILE), JSON.stringify(saved));
    for (const path of staleJournals(dir, saved.generation)) rmSync(path, { force: true });
    this.options.log(`compacted ${dir}: generation ${saved.generation}`);
  }
}

/**
 * A registry holding `saved` (none: a fresh registry) on `clock`. Loading
 * the snapshot is no event (its registry/restored is dropped): the events
 * that follow are numbered after the saved state's last one. Waits come
 * back with callbacks that ignore their outcome. Throws StateFileError,
 * naming `where`, when the snapshot does not restore.
 */
export function registryFromSaved(
  saved: SavedState | undefined,
  options: RegistryOptions,
  clock: PinnedClock,
  where: string,
): Registry {
  const registry = new Registry({ ...options, now: clock.now });
  if (saved === undefined) return registry;
  try {
    registry.setProcessOptions(saved.options);
    registry.restore(saved.snapshot);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new StateFileError(`${where}: ${error.message}; the file was left as it is`);
  }
  registry.loadDelayed(saved.delayed);
  registry.loadCrashedSinceReap(saved.crashedSinceReap ?? []);
  registry.loadWaits(saved.waits, () => () => {});
  registry.events.continueAfter(saved.lastEventSeq ?? 0);
  return registry;
}

/** The saved state of `registry` as generation `generation`: `snapshot` and what the registry keeps beside it. */
export function savedStateOf(registry: Registry, generation: number, snapshot: Snapshot): SavedState {
  return {
    format: STATE_FORMAT,
    generation,
    options: registry.processOptions(),
    waits: registry.saveWaits(),
    delayed: registry.saveDelayed(),
    crashedSinceReap: registry.saveCrashedSinceReap(),
    lastEventSeq: registry.events.latestSeq,
    snapshot,
  };
}
