import type { RegistryConfig } from "../../protocol/common.js";
import { type Limits, Registry } from "../core/registry.js";
import type { RegistryStore, ServedStore } from "../core/store.js";
import type { Durability } from "../storage/journal.js";
import { type ServerClock, manualClock, systemClock } from "./clock.js";
import type { JournalStats, PostgresStats } from "./metrics.js";
import type { RuntimeOptions } from "./runtime.js";
import { hidePassword, isPostgresUrl } from "./state-url.js";

/** A store a runtime serves, with the clock that goes with it and how to close it. */
export interface ServedState {
  /** Every request's change or read goes here; it may answer later. */
  store: ServedStore;
  /** What this process knows, read at once: the same object as `store` when that answers at once. */
  view: RegistryStore;
  clock: ServerClock;
  close(): Promise<void>;
  /** A store that applies other processes' changes calls `listener` after each batch of them (deadlines may move). */
  onApplied?(listener: (restored: boolean) => void): void;
}

/** What {@link RuntimeOptions.openStore} is given: the registry's settings from the command line. */
export interface StoreSettings {
  clock: "system" | "manual";
  config: Partial<RegistryConfig>;
  crashLockDelayMs: number;
  limits: Limits;
}

/** The state a runtime opened, with its journal (a state directory) and whether it held anything before. */
export interface OpenedState extends ServedState {
  durability?: Durability;
  journal(): JournalStats | null;
  /** PostgreSQL state's counters. */
  postgres?(): PostgresStats | null;
  /** It held something besides a new state's empty registry (the config it keeps is the start's, see configSources). */
  kept: boolean;
}

/**
 * Open the state `options` name: a registry in memory; the state directory
 * `statePath` (recovered from its saved state and journals); PostgreSQL
 * state when `statePath` is a postgres:// or postgresql:// URL; or, in
 * tests, what `openStore` opens. The storage code is loaded only when asked
 * for, to keep the plain start fast. The config given on the command line
 * wins over the one kept.
 */
export async function openState(
  options: RuntimeOptions,
  log: (line: string) => void,
  onFatal: (error: Error) => void,
): Promise<OpenedState> {
  const clock = options.clock === "manual" ? manualClock() : systemClock();
  const registry = { now: clock.now, crashLockDelayMs: options.crashLockDelayMs, limits: options.limits };
  const { statePath, config } = options;
  if (options.openStore !== undefined) {
    const served = await options.openStore({ clock: options.clock, config, ...registry });
    return { ...served, journal: () => null, kept: false };
  }
  if (statePath === undefined) {
    const store = new Registry({ ...registry, config });
    return { store, view: store, clock, close: async () => {}, journal: () => null, kept: false };
  }
  if (isPostgresUrl(statePath)) {
    const { openPgState } = await import("../storage/postgres/pg-state.js");
    const keepAgents = options.keepAgents ?? false;
    const compactEvery = options.compactEntries;
    const pg = await openPgState({
      url: statePath,
      clock: options.clock,
      registry,
      keepAgents,
      log,
      onFatal,
      ...(compactEvery === undefined ? {} : { compactEvery }),
    });
    const { seq, entries, snapshotSeq } = pg.recovered;
    log(
      `state ${hidePassword(statePath)}: at seq ${seq}, ${entries} log entries replayed` +
        (snapshotSeq === null ? "" : ` after the snapshot at seq ${snapshotSeq}`),
    );
    const state: OpenedState = {
      store: pg.store,
      view: pg.view,
      clock: pg.clock,
      close: () => pg.close(),
      onApplied: (listener) => pg.onApplied(listener),
      journal: () => null,
      postgres: () => pg.stats(),
      kept: entries > 0 || snapshotSeq !== null,
    };
    await configure(state, config);
    return state;
  }
  const { openDurableState } = await import("../storage/durable-state.js");
  const durable = await openDurableState({
    dir: statePath,
    registry,
    compactBytes: options.compactBytes,
    log,
    onFatal,
  });
  const { generation, entries, tornBytes } = durable.recovered;
  log(
    `state ${statePath}: generation ${generation}, ${entries} journal entries ` +
      `replayed${tornBytes > 0 ? ", torn last line dropped" : ""}`,
  );
  const store = durable.store;
  if (clock.kind === "manual") clock.set(store.now());
  const state = {
    store,
    view: store,
    clock,
    durability: durable.journal,
    close: () => durable.close(),
    journal: () => durable.stats(),
    kept: generation > 0 || entries > 0,
  };
  await configure(state, config);
  return state;
}

/** Set the config given on the command line where the kept one differs. */
async function configure(state: ServedState, config: Partial<RegistryConfig>): Promise<void> {
  const kept = state.view.config();
  if (Object.entries(config).some(([key, value]) => kept[key as keyof RegistryConfig] !== value))
    await state.store.setConfig(config);
}
