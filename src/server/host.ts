import type { RegistryConfig } from "../../protocol/common.js";
import { type Limits, Registry } from "../core/registry.js";
import type { RegistryStore } from "../core/store.js";
import type { Durability } from "../storage/journal.js";
import { type ServerClock, manualClock, systemClock } from "./clock.js";
import { startDeadlineTimer } from "./deadline-timer.js";
import { keepYoungGenerationSmall } from "./heap-tuning.js";
import { type JournalStats, ServerMetrics } from "./metrics.js";

/** A server's log line, on stderr (stdout is the wire). */
export function log(line: string): void {
  process.stderr.write(`harn-registry: ${line}\n`);
}

/** Nothing more can be acknowledged (the journal cannot be written, the writer lock is lost): say so and exit 1. */
export function fatal(error: Error): void {
  log(`fatal: ${error.message}`);
  process.exit(1);
}

/** What every transport shares: the registry, its clock and where it is kept. */
export interface HostOptions {
  clock: "system" | "manual";
  /** Config given on the command line; it wins over a recovered state's. */
  config: Partial<RegistryConfig>;
  crashLockDelayMs: number;
  limits: Limits;
  /** A state directory (--state): journaled, recovered at start. */
  statePath?: string;
  compactBytes: number;
  /** Count and time every request for `metrics` (on unless --no-metrics). */
  timeRequests: boolean;
}

/** The running registry of a process. */
export interface Host {
  store: RegistryStore;
  clock: ServerClock;
  durability?: Durability;
  metrics: ServerMetrics;
  timeRequests: boolean;
  /** Call after every request: the deadline timer re-arms. */
  afterRequest(): void;
  /** Stop the timer; with a state directory, write what is pending and release it. */
  close(): Promise<void>;
}

/**
 * Build the registry a server serves: in memory, or kept in `statePath`
 * (recovered from its snapshot and journal first; the storage code is
 * loaded only then, to keep the plain start fast), with V8's young
 * generation kept small (see heap-tuning.ts). Throws StateFileError
 * when the state directory is corrupt or held by another process.
 */
export async function openHost(options: HostOptions, log: (line: string) => void, onFatal: (error: Error) => void): Promise<Host> {
  keepYoungGenerationSmall();
  const clock = options.clock === "manual" ? manualClock() : systemClock();
  const registryOptions = { now: clock.now, crashLockDelayMs: options.crashLockDelayMs, limits: options.limits };
  let store: RegistryStore;
  let durability: Durability | undefined;
  let closeState = async () => {};
  let journal: () => JournalStats | null = () => null;
  if (options.statePath === undefined) {
    store = new Registry({ ...registryOptions, config: options.config });
  } else {
    const { openDurableState } = await import("../storage/durable-state.js");
    const { statePath: dir, compactBytes } = options;
    const state = await openDurableState({ dir, registry: registryOptions, compactBytes, log, onFatal });
    const { generation, entries, tornBytes } = state.recovered;
    log(`state ${options.statePath}: generation ${generation}, ${entries} journal entries replayed${tornBytes > 0 ? ", torn last line dropped" : ""}`);
    store = state.store;
    durability = state.journal;
    closeState = state.close;
    journal = state.stats;
    if (clock.kind === "manual") clock.set(store.now());
    const config = store.config();
    if (Object.entries(options.config).some(([key, value]) => config[key as keyof RegistryConfig] !== value)) store.setConfig(options.config);
  }
  const deadlines = clock.kind === "system" ? startDeadlineTimer(store, clock.now) : undefined;
  deadlines?.rearm();
  return {
    store,
    clock,
    durability,
    metrics: new ServerMetrics(store, journal),
    timeRequests: options.timeRequests,
    afterRequest: () => deadlines?.rearm(),
    close: async () => {
      deadlines?.stop();
      await closeState();
    },
  };
}
