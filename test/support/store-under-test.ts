// The store a core suite runs against: the registry in memory, a state
// directory (its journaled store), or PostgreSQL state on a database of its
// own, each on a manual clock. The suites make the same calls on each and
// await every answer (memory and directory answer at once, PostgreSQL with a
// promise); what differs between the stores is handled here, not in the
// scenarios:
// - time: memory and directory read a hand-moved clock (moving it is no
//   call); PostgreSQL's manual clock is the log's time, moved only by a tick
//   in the log (clock_set's, as the server makes on every store), which
//   applies what fell due at once (see locking.test.ts, the one scenario this
//   shows in); a new database's clock is at 0, so it is moved to the start;
// - a starting state beyond what calls can reach (counters near 2^53-1, the
//   next wait id): the saved state each store loads at start (memory: loaded
//   into the registry; directory: its state.json of generation 0 and an empty
//   journal; PostgreSQL: a snapshot row at seq 0, written before the sidecar
//   opens the log);
// - config: given to the memory registry, set through the store on the others
//   (as the server does with a kept state).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { onTestFinished } from "vitest";
import type { RegistryConfig } from "../../protocol/common.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import { Registry, type RegistryOptions } from "../../src/core/registry.js";
import type { MaybePromise, ServedStore } from "../../src/core/store.js";
import { registryFromSaved, replayStateDir } from "../../src/storage/durable-state.js";
import { PinnedClock } from "../../src/storage/pinned-clock.js";
import { openPgLog } from "../../src/storage/postgres/pg-log.js";
import { openPgState } from "../../src/storage/postgres/pg-state.js";
import type { StoreApi } from "../../src/storage/store-ops.js";
import { STATE_FILE, type SavedState, journalFile, readStateDir } from "../../src/storage/state-files.js";
import { openState } from "./durable.js";
import { freshDatabase } from "./postgres-database.js";
import { tempDir } from "./temp-dir.js";

/** The stores the core suites run over. */
export const CORE_STORES = ["memory", "directory", "postgres"] as const;
export type CoreStoreKind = (typeof CORE_STORES)[number];

/** How to start a {@link StoreUnderTest}. */
export interface StoreStart {
  /** The clock's start (default 0). */
  startMs?: number;
  config?: Partial<RegistryConfig>;
  /** The registry's process options (lock-delay, limits). */
  crashLockDelayMs?: number;
  limits?: RegistryOptions["limits"];
  /** A saved state to start from (as a state directory's state.json holds it). */
  saved?: SavedState;
  /**
   * PostgreSQL only: the database to use, emptied first (its schema dropped), instead of a new one (creating one takes
   * about ten times longer).
   */
  database?: string;
  /** Close the store when the running test finishes (default); false: call close() yourself. */
  closeAfterTest?: boolean;
}

/** A store as the server's, and `setProcessOptions` (the process's lock-delay, limits and rules): may answer later. */
export type CoreStore = ServedStore & {
  setProcessOptions(...args: Parameters<StoreApi["setProcessOptions"]>): MaybePromise<void>;
};

/** A store on a manual clock: every call's answer may be a promise (await it). */
export interface StoreUnderTest {
  readonly kind: CoreStoreKind;
  readonly reg: CoreStore;
  /** The registry this process holds, read at once (for what the store does not offer, e.g. processOptions). */
  readonly view: Registry;
  /** The clock's time. */
  now(): number;
  /** Move the clock to `ms` (forward only: PostgreSQL's clock refuses a move back, so every store does). */
  setTime(ms: number): Promise<void>;
  /**
   * What another process opening this state now finds, as a snapshot: the directory's files replayed (read only), a
   * second PostgreSQL sidecar's replica (it loads the log); none in memory.
   */
  reopened(): Promise<Snapshot | undefined>;
  /** Release the store (the directory's writer lock, the database's connections). */
  close(): Promise<void>;
}

/** Open a store of `kind` on a manual clock at `start.startMs` (see the top of this file). */
export async function storeUnderTest(kind: CoreStoreKind, start: StoreStart = {}): Promise<StoreUnderTest> {
  const startMs = start.startMs ?? 0;
  const opened = await open(kind, start, startMs);
  if (kind !== "memory" && start.config !== undefined) await opened.reg.setConfig(start.config);
  let now = startMs;
  const store: StoreUnderTest = {
    kind,
    reg: opened.reg,
    view: opened.view,
    now: () => now,
    setTime: async (ms) => {
      if (ms < now) throw new Error(`the test moves the clock back from ${now} to ${ms}`);
      now = ms;
      await opened.setTime(ms);
    },
    reopened: opened.reopened,
    close: opened.close,
  };
  if (start.closeAfterTest ?? true) onTestFinished(() => store.close());
  return store;
}

/**
 * Open stores of `kind` one after another (a property's runs, each closing its store before the next opens): on
 * PostgreSQL, all on one database of their own, emptied before each.
 */
export function storeSeries(kind: CoreStoreKind): (start?: StoreStart) => Promise<StoreUnderTest> {
  let database: Promise<string> | undefined;
  return async (start = {}) => {
    if (kind !== "postgres") return storeUnderTest(kind, start);
    database ??= freshDatabase();
    return storeUnderTest(kind, { ...start, database: await database });
  };
}

type Opened = Pick<StoreUnderTest, "reg" | "view" | "setTime" | "reopened" | "close">;

async function open(kind: CoreStoreKind, start: StoreStart, startMs: number): Promise<Opened> {
  const clock = { now: startMs };
  const registry: RegistryOptions = {
    now: () => clock.now,
    ...(start.crashLockDelayMs === undefined ? {} : { crashLockDelayMs: start.crashLockDelayMs }),
    ...(start.limits === undefined ? {} : { limits: start.limits }),
  };
  const moveClock = async (ms: number) => {
    clock.now = ms;
  };
  switch (kind) {
    case "memory": {
      const options = { ...registry, ...(start.config === undefined ? {} : { config: start.config }) };
      const reg =
        start.saved === undefined
          ? new Registry(options)
          : registryFromSaved(start.saved, options, new PinnedClock(registry.now), "the saved state");
      return { reg, view: reg, setTime: moveClock, reopened: async () => undefined, close: async () => {} };
    }
    case "directory": {
      const dir = tempDir("core-state-");
      if (start.saved !== undefined) {
        // As a writer leaves a new directory: state.json of generation 0 and its (empty) journal.
        writeFileSync(join(dir, STATE_FILE), JSON.stringify(start.saved));
        writeFileSync(join(dir, journalFile(start.saved.generation)), "");
      }
      const state = await openState(dir, registry);
      const reopened = async () => {
        await state.journal.flushed();
        return replayStateDir(readStateDir(dir), new PinnedClock(registry.now), registry).registry.snapshot();
      };
      return { reg: state.store, view: state.store.registry, setTime: moveClock, reopened, close: () => state.close() };
    }
    case "postgres": {
      const url = start.database ?? (await freshDatabase());
      if (start.database !== undefined) await emptyDatabase(url);
      if (start.saved !== undefined) {
        const log = await openPgLog(url, { clock: "manual", keepAgents: true, log: () => {} });
        await log.saveSnapshot({ seq: 0, t: startMs, state: JSON.stringify(start.saved) });
        await log.close();
      }
      const sidecar = () =>
        openPgState({
          url,
          clock: "manual",
          registry,
          keepAgents: true,
          log: () => {},
          onFatal: (error) => {
            throw error;
          },
        });
      const pg = await sidecar();
      // The manual clock starts at the log's time (0 in a new database): move it to the start, as clock_set does.
      const setTime = async (ms: number) => {
        pg.clock.set(ms);
        await pg.store.tick();
      };
      await setTime(startMs);
      const reopened = async () => {
        const other = await sidecar();
        try {
          return await other.store.snapshot();
        } finally {
          await other.close();
        }
      };
      // The store offers every change of the journal (STORE_OPS), setProcessOptions too; its view is the replica.
      const reg = pg.store as CoreStore;
      return { reg, view: pg.view as Registry, setTime, reopened, close: () => pg.close() };
    }
  }
}

/** Drop what PostgreSQL state keeps in the database at `url` (no sidecar may be on it). */
async function emptyDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("drop schema if exists harn_registry cascade");
  } finally {
    await client.end();
  }
}
