import { DomainError, InvalidInputError } from "../core/errors.js";
import type { Registry } from "../core/registry.js";

/**
 * The registry operations that change state, as the journal names them. An
 * entry `{t, op, a}` is the call `registry[op](...a)` made at time `t`;
 * the registry is deterministic given its state, the call and the time, so
 * replaying the entries in order rebuilds the state exactly. `tick` stands
 * for time-driven changes (expiries, crashes) that no request caused;
 * `configure` records the process's lock-delay and limits, which results
 * depend on, each time a process opens the journal.
 */
export const JOURNALED_OPS = [
  "configure",
  "setConfig",
  "register",
  "registerWithId",
  "heartbeat",
  "unregister",
  "noteEdit",
  "tryLock",
  "acquire",
  "cancelWait",
  "releaseLock",
  "releaseAll",
  "forceRelease",
  "renew",
  "recordVersion",
  "restore",
  "tick",
  "crashAgents",
] as const satisfies readonly (keyof Registry)[];

export type JournaledOp = (typeof JOURNALED_OPS)[number];

/** One journal entry. */
export interface Entry {
  t: number;
  op: JournaledOp;
  a: unknown[];
}

const known = new Set<string>(JOURNALED_OPS);

/** The entry in a checked line, or a description of what is wrong with it. */
export function parseEntry(json: string): Entry | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return `is not JSON (${(error as Error).message})`;
  }
  const entry = value as Partial<Entry>;
  if (typeof value !== "object" || value === null || !Number.isSafeInteger(entry.t) || !Array.isArray(entry.a)) return "is not a {t, op, a} entry";
  if (typeof entry.op !== "string" || !known.has(entry.op)) return `names an unknown operation ${JSON.stringify(entry.op)}`;
  return entry as Entry;
}

const ignoreOutcome = () => {};

/**
 * Replay one entry on `registry` (its clock already set to `entry.t`).
 * A call that failed when it was made fails the same way now and changed
 * nothing then either, so its error is ignored. Waits are re-created with a
 * callback that ignores their outcome: nobody is waiting for them any more,
 * but they still hold their place in the queue.
 */
export function replayEntry(registry: Registry, entry: Entry): void {
  const args = entry.a.map((arg) => (arg === null ? undefined : arg));
  try {
    if (entry.op === "acquire") {
      registry.acquire(args[0] as Parameters<Registry["acquire"]>[0], args[1] === true ? ignoreOutcome : undefined);
    } else {
      (registry[entry.op] as (...input: unknown[]) => unknown)(...args);
    }
  } catch (error) {
    if (!(error instanceof DomainError || error instanceof InvalidInputError)) throw error;
  }
}
