import type { RegistryConfig } from "../../protocol/common.js";
import type { ConfigSources } from "../../protocol/methods.js";
import type { Limits } from "../core/registry.js";
import type { RegistryStore, ServedStore } from "../core/store.js";
import type { Durability } from "../storage/journal.js";
import type { ServerClock } from "./clock.js";
import { AgentBindings } from "./current-agent.js";
import { startDeadlineTimer } from "./deadline-timer.js";
import { keepYoungGenerationSmall } from "./heap-tuning.js";
import { ServerMetrics } from "./metrics.js";
import { type ServedState, type StoreSettings, openState } from "./open-state.js";

/**
 * The signals that stop a server: stop reading, answer what was received, write it, exit 0 (a second one: exit at
 * once).
 */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Take SIGTERM, SIGINT and SIGHUP now (none of them kills the process any
 * more); returns the function to call once the server serves, with what
 * to do on a signal (`again`: a later one). A signal that comes before
 * that, while the server starts, exits 0 at once: nothing was read yet.
 */
export function onStopSignals(): (handle: (signal: NodeJS.Signals, again: boolean) => void) => void {
  let handler: ((signal: NodeJS.Signals, again: boolean) => void) | undefined;
  let seen = 0;
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      seen++;
      if (handler !== undefined) handler(signal, seen > 1);
      else {
        log(`${signal} while starting: exiting`);
        process.exit(0);
      }
    });
  }
  return (handle) => {
    handler = handle;
  };
}

/** A server's log line, on stderr (stdout is the wire). */
export function log(line: string): void {
  process.stderr.write(`harn-registry: ${line}\n`);
}

/** Nothing more can be acknowledged (the journal cannot be written, the writer lock is lost): say so and exit 1. */
export function fatal(error: Error): void {
  log(`fatal: ${error.message}`);
  process.exit(1);
}

/**
 * One setting of the process as the start logs it (a switch given has no value); one with `config` takes its value and
 * source from the registry once it is open.
 */
export interface RuntimeSetting {
  name: string;
  value?: string | number;
  source: "flag" | "default";
  config?: keyof RegistryConfig;
}

/** What every transport shares: the registry, its clock and where it is kept. */
export interface RuntimeOptions {
  clock: "system" | "manual";
  /** Config given on the command line; it wins over the config saved in the state directory. */
  config: Partial<RegistryConfig>;
  crashLockDelayMs: number;
  limits: Limits;
  /**
   * Where the registry is kept (--state): a directory (durable state, recovered at start), or a postgres:// or
   * postgresql:// URL (PostgreSQL state, shared by every sidecar started with it).
   */
  statePath?: string;
  compactBytes: number;
  /** With PostgreSQL state: a snapshot row every this many log entries (--compact-entries; default 10,000). */
  compactEntries?: number;
  /** PostgreSQL state: this sidecar's agents outlive it (--keep-agents-on-disconnect); else they crash when it ends. */
  keepAgents?: boolean;
  /** Count and time every request for `metrics` (on unless --no-metrics). */
  timeRequests: boolean;
  /** The settings to log at start, in order (the registry config alone without them). */
  settings?: readonly RuntimeSetting[];
  /** Tests only: serve the store this opens instead of any of the above (test/support/async-store.ts). */
  openStore?(settings: StoreSettings): Promise<ServedState>;
}

/**
 * The registry runtime of a process: the registry (in memory, durable
 * state in a state directory, or PostgreSQL state), its clock, its
 * deadline timer and its metrics, shared by every session. (Not the
 * README's "host": that is the process that spawns the sidecar or connects
 * to it.)
 */
export interface Runtime {
  /** Every request's change or read goes here: it may answer later (PostgreSQL state), in call order. */
  store: ServedStore;
  /**
   * What this process knows, read at once (ownership, current-agent slots, metrics, deadlines, events, config): the
   * same object as `store` exactly when that answers at once (memory, a state directory).
   */
  view: RegistryStore;
  clock: ServerClock;
  durability?: Durability;
  metrics: ServerMetrics;
  timeRequests: boolean;
  /** Which agent each connection (and each of its host/call sessions) is bound to: current_agent_id. */
  bindings: AgentBindings;
  /** Where each config value in force came from (see {@link configSources}). */
  configSources(): ConfigSources;
  /** Call after every request (and, with a store that answers later, once it is answered): the timer re-arms. */
  afterRequest(): void;
  /** Stop the timer; with a state directory, write what is pending and release it; with PostgreSQL, close it. */
  close(): Promise<void>;
}

/**
 * Open the runtime a server serves (see openState), with V8's young
 * generation kept small (see heap-tuning.ts). Throws StateFileError when
 * the state directory is corrupt or held by another process.
 */
export async function openRuntime(
  options: RuntimeOptions,
  log: (line: string) => void,
  onFatal: (error: Error) => void,
): Promise<Runtime> {
  keepYoungGenerationSmall();
  const state = await openState(options, log, onFatal);
  const { store, view, clock } = state;
  const started = configSources(options.config, state.kept);
  const startConfig = view.config();
  log(`config: ${startLine(options.settings, startConfig, started)}`);
  const deadlines = clock.kind === "system" ? startDeadlineTimer(view, () => store.tick(), clock.now) : undefined;
  deadlines?.rearm();
  const bindings = new AgentBindings(view);
  // Changes another process made: deadlines may have moved, and a restore may have ended bound agents.
  state.onApplied?.((restored) => {
    deadlines?.rearm();
    if (restored) bindings.afterRestore();
  });
  return {
    store,
    view,
    clock,
    durability: state.durability,
    metrics: new ServerMetrics(view, state.journal, state.postgres),
    timeRequests: options.timeRequests,
    bindings,
    configSources: () => {
      const now = view.config();
      const sources = { ...started };
      for (const key of CONFIG_KEYS) if (now[key] !== startConfig[key]) sources[key] = "restore";
      return sources;
    },
    afterRequest: () => deadlines?.rearm(),
    close: async () => {
      deadlines?.stop();
      await state.close();
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
function startLine(
  settings: readonly RuntimeSetting[] | undefined,
  config: RegistryConfig,
  sources: ConfigSources,
): string {
  const all =
    settings ??
    CONFIG_KEYS.map((key): RuntimeSetting => ({ name: key, value: config[key], source: "default", config: key }));
  return all
    .map(({ name, value, source, config: key }) =>
      key !== undefined
        ? `${name}=${config[key]} (${sources[key]})`
        : value === undefined
          ? `${name} (${source})`
          : `${name}=${value} (${source})`,
    )
    .join(", ");
}
