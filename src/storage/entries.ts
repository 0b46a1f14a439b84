import { DomainError, InvalidInputError } from "../core/errors.js";
import type { Registry } from "../core/registry.js";
import type { RecordInput } from "../core/store.js";
import { canonicalHash } from "../core/validate.js";
import { type JournaledOp, type StoreApi, opOfJournalName } from "./store-ops.js";

/** One journal entry: the call `registry[op](...a)` made at time `t` (see STORE_OPS for the contract). */
export interface Entry {
  t: number;
  op: JournaledOp;
  a: unknown[];
}

/** A change about to be made: the arguments to journal, and the call itself. */
export interface PreparedChange {
  journaled: unknown[];
  apply(): unknown;
}

type Args<Op extends JournaledOp> = Parameters<StoreApi[Op]>;

/**
 * The changes whose arguments are not journaled as given: each validates
 * what it journals first (throwing, with nothing journaled, as the call
 * would), so that the journal holds only what JSON carries and the replay
 * accepts.
 */
const preparedChanges: { [Op in JournaledOp]?: (registry: Registry, args: Args<Op>) => PreparedChange } = {
  acquire: (registry, [input, onWaitDone]) => ({
    journaled: [input, onWaitDone !== undefined],
    apply: () => registry.acquire(input, onWaitDone),
  }),
  recordVersion: (registry, [input]) => {
    const journaled: RecordInput = input.hash === undefined ? input : { ...input, hash: canonicalHash(input.hash) };
    return { journaled: [journaled], apply: () => registry.recordVersion(input) };
  },
  restore: (registry, [snapshot, options]) => {
    const prepared = registry.prepareRestore(snapshot);
    return { journaled: [prepared.snapshot, options], apply: () => registry.applyRestore(prepared, options) };
  },
};

/** The change `op(...args)` on `registry`, with the arguments it is journaled with. */
export function prepareChange<Op extends JournaledOp>(registry: Registry, op: Op, args: Args<Op>): PreparedChange {
  const prepare = preparedChanges[op] as ((registry: Registry, args: Args<Op>) => PreparedChange) | undefined;
  if (prepare !== undefined) return prepare(registry, args);
  return { journaled: args, apply: () => (registry[op] as (...input: unknown[]) => unknown)(...args) };
}

/**
 * The entry in a checked line (its `op` read by {@link opOfJournalName}), or a description of what is wrong with it.
 */
export function parseEntry(json: string): Entry | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return `is not JSON (${(error as Error).message})`;
  }
  const entry = value as Partial<Entry>;
  if (typeof value !== "object" || value === null || !Number.isSafeInteger(entry.t) || !Array.isArray(entry.a))
    return "is not a {t, op, a} entry";
  const op = typeof entry.op === "string" ? opOfJournalName(entry.op) : undefined;
  if (op === undefined) return `names an unknown operation ${JSON.stringify(entry.op)}`;
  return { t: entry.t as number, op, a: entry.a };
}

const ignoreOutcome = () => {};

/**
 * Replay one entry on `registry` (its clock already set to `entry.t`).
 * A call that failed when it was made fails the same way now and changed
 * nothing then either: its error is returned, not thrown. Waits are
 * re-created with a callback that ignores their outcome: nobody is waiting
 * for them any more, but they still hold their place in the queue.
 */
export function replayEntry(registry: Registry, entry: Entry): DomainError | InvalidInputError | undefined {
  const args = entry.a.map((arg) => (arg === null ? undefined : arg));
  try {
    if (entry.op === "acquire") {
      registry.acquire(args[0] as Args<"acquire">[0], args[1] === true ? ignoreOutcome : undefined);
    } else {
      (registry[entry.op] as (...input: unknown[]) => unknown)(...args);
    }
    return undefined;
  } catch (error) {
    if (error instanceof DomainError || error instanceof InvalidInputError) return error;
    throw error;
  }
}
