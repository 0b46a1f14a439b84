import type { RegistryConfig } from "../../protocol/common.js";
import type { ConfigSources } from "../../protocol/methods.js";
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

/** One setting of the process as the start logs it (a switch given has no value); one with `config` takes its value and source from the registry once it is open. */
export interface HostSetting {
  name: string;
  value?: string | number;
  source: "flag" | "default";
  config?: keyof RegistryConfig;
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
  /** The settings to log at start, in order (the registry config alone without them). */
  settings?: readonly HostSetting[];
}

/** The running registry of a process. */
export interface Host {
  store: RegistryStore;
  clock: ServerClock;
  durability?: Durability;
  metrics: ServerMetrics;
  timeRequests: boolean;
  /** Where each config value in force came from (see {@link configSources}). */
  configSources(): ConfigSources;
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
  let kept = false;
  if (options.statePath === undefined) {
    store = new Registry({ ...registryOptions, config: options.config });
  } else {
    const { openDurableState } = await import("../storage/durable-state.js");
    const { statePath: dir, compactBytes } = options;
    const state = await openDurableState({ dir, registry: registryOptions, compactBytes, log, onFatal });
    const { generation, entries, tornBytes } = state.recovered;
    kept = generation > 0 || entries > 0;
    log(`state ${options.statePath}: generation ${generation}, ${entries} journal entries replayed${tornBytes > 0 ? ", torn last line dropped" : ""}`);
    store = state.store;
    durability = state.journal;
    closeState = state.close;
    journal = state.stats;
    if (clock.kind === "manual") clock.set(store.now());
    const config = store.config();
    if (Object.entries(options.config).some(([key, value]) => config[key as keyof RegistryConfig] !== value)) store.setConfig(options.config);
  }
  const started = configSources(options.config, kept);
  const startConfig = store.config();
  log(`config: ${startLine(options.settings, startConfig, started)}`);
  const deadlines = clock.kind === "system" ? startDeadlineTimer(store, clock.now) : undefined;
  deadlines?.rearm();
  return {
    store,
    clock,
    durability,
    metrics: new ServerMetrics(store, journal),
    timeRequests: options.timeRequests,
    configSources: () => {
      const now = store.config();
      const sources = { ...started };
      for (const key of CONFIG_KEYS) if (now[key] !== startConfig[key]) sources[key] = "restore";
      return sources;
    },
    afterRequest: () => deadlines?.rearm(),
    close: async () => {
      deadlines?.stop();
      await closeState();
    },
  };
}

const CONFIG_KEYS = ["default_lock_ttl_ms", "agent_timeout_ms"] as const satisfies readonly (keyof RegistryConfig)[];

/**
 * A flag wins; without one, a --state directory keeps the value it had
 * (`kept`: it held something besides a new directory's empty state);
 * otherwise the default.
 */
export function configSources(given: Partial<RegistryConfig>, kept: boolean): ConfigSources {
  const source = (key: keyof RegistryConfig) => (given[key] !== undefined ? "flag" : kept ? "state" : "default");
  return { default_lock_ttl_ms: source("default_lock_ttl_ms"), agent_timeout_ms: source("agent_timeout_ms") };
}

/** `name=value (source), ...`: the settings, each config one with the registry's value and source. */
function startLine(settings: readonly HostSetting[] | undefined, config: RegistryConfig, sources: ConfigSources): string {
  const all = settings ?? CONFIG_KEYS.map((key): HostSetting => ({ name: key, value: config[key], source: "default", config: key }));
  return all
    .map(({ name, value, source, config: key }) => (key !== undefined ? `${name}=${config[key]} (${sources[key]})` : value === undefined ? `${name} (${source})` : `${name}=${value} (${source})`))
    .join(", ");
}
