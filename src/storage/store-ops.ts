import type { Registry } from "../core/registry.js";
import type { RegistryStore } from "../core/store.js";

/** What a journaled store offers: the server's store, and `setProcessOptions` (the process's lock-delay and limits). */
export type StoreApi = RegistryStore & Pick<Registry, "setProcessOptions">;

/**
 * How a journaled store treats each member of the store, checked by the
 * compiler: a member added to {@link StoreApi} does not compile until it is
 * classified here.
 *
 * - `change`: may change state. Journaled before it is made, as the entry
 *   `{t, op, a}`, and made with the clock pinned to `t`.
 * - `read`: changes nothing but time-driven state (expiries, crashes,
 *   waiters' deadlines), which it applies first like every call; when a
 *   deadline is due it journals a `tick` at its time first.
 * - `direct`: neither changes state nor applies deadlines; passed through.
 *
 * The journal entry, one per change, is the contract a replay (and the
 * PostgreSQL log planned later) relies on:
 * - `t`: the time the call ran at, in ms (a safe integer);
 * - `op`: the name of the change: a `change` member below, under the name
 *   {@link journalName} gives it;
 * - `a`: the call's arguments in order, as JSON; a missing argument is null.
 *   Three are written in a form that JSON carries and the replay accepts:
 *   `acquire`'s callback as `true` when the caller waits (else false),
 *   `recordVersion`'s hash as its canonical decimal string, and `restore`'s
 *   snapshot as the format-2 snapshot it puts in place (see
 *   Registry.prepareRestore).
 * Replaying the entries in order, each with the clock at its `t`, rebuilds
 * the state exactly. A call that failed when it was made was journaled
 * too, and fails the same way on replay, changing nothing either time.
 * Renaming a change's op or reordering its arguments breaks every journal
 * written before: test/fixtures/journal holds one journal with every change,
 * which must keep replaying to the same state. So must a change of what a
 * call does: the rules are numbered (`rules` in `configure`'s process
 * options, absent before they were), and each entry replays under the
 * rules in force when it was made.
 */
export const STORE_OPS = {
  events: "direct",
  now: "direct",
  config: "direct",
  nextDeadline: "direct",
  setProcessOptions: "change",
  setConfig: "change",
  register: "change",
  registerWithId: "change",
  heartbeat: "change",
  unregister: "change",
  noteEdit: "change",
  tryLock: "change",
  acquire: "change",
  cancelWait: "change",
  releaseLock: "change",
  releaseAll: "change",
  forceRelease: "change",
  renew: "change",
  recordVersion: "change",
  restore: "change",
  tick: "change",
  crashAgents: "change",
  reap: "change",
  lockHolder: "read",
  lockInfo: "read",
  lockCheck: "read",
  listLocks: "read",
  agentState: "read",
  getAgent: "read",
  agentDetails: "read",
  listAgents: "read",
  stats: "read",
  changesSince: "read",
  currentSeq: "read",
  snapshot: "read",
} as const satisfies Record<keyof StoreApi, "change" | "read" | "direct">;

type StoreOp = keyof typeof STORE_OPS;
type OpsOf<Kind> = { [K in StoreOp]: (typeof STORE_OPS)[K] extends Kind ? K : never }[StoreOp];

/** A change: an `op` of the journal. */
export type JournaledOp = OpsOf<"change">;
/** A read: journals a tick first when a deadline is due. */
export type ReadOp = OpsOf<"read">;
/** Passed through. */
export type DirectOp = OpsOf<"direct">;

/** Every change (by its member's name). */
export const JOURNALED_OPS: readonly JournaledOp[] = opsOf("change");

/**
 * The changes journaled under another name than their member's: the name
 * the frozen entry format had when the member was renamed. Journals on disk
 * use these names; every other change is journaled under its member's name.
 */
const RENAMED_OPS: { readonly [Op in JournaledOp]?: string } = { setProcessOptions: "configure" };

/** The `op` a change is journaled under. */
export function journalName(op: JournaledOp): string {
  return RENAMED_OPS[op] ?? op;
}

const opsByJournalName = new Map(JOURNALED_OPS.map((op) => [journalName(op), op]));

/** The change a journal's `op` names, or undefined when it names none. */
export function opOfJournalName(name: string): JournaledOp | undefined {
  return opsByJournalName.get(name);
}

function opsOf<Kind extends "change" | "read" | "direct">(kind: Kind): OpsOf<Kind>[] {
  return (Object.keys(STORE_OPS) as StoreOp[]).filter((op): op is OpsOf<Kind> => STORE_OPS[op] === kind);
}
