import type { Registry } from "../core/registry.js";
import { prepareChange } from "./entries.js";
import type { Journal } from "./journal.js";
import type { PinnedClock } from "./pinned-clock.js";
import { type JournaledOp, STORE_OPS, type StoreApi, journalName } from "./store-ops.js";

/** The registry with every state change journaled before it is made; `registry` is the registry underneath. */
export type JournaledStore = StoreApi & { readonly registry: Registry };

/**
 * Build the journaled store over `registry`, member by member from
 * STORE_OPS. A change is written as the call that made it and the time it
 * ran at (the clock is pinned to that time during the call); a read that
 * finds a deadline due first journals a `tick`, so time-driven changes are
 * replayed at the time they happened. Replies wait for the journal (see
 * Durability).
 */
export function journaledStore(registry: Registry, journal: Journal, clock: PinnedClock): JournaledStore {
  /** Run `call` with the clock pinned to one time (the outer call's, when nested). */
  const pinned = <T>(call: (t: number) => T): T => {
    const t = registry.now();
    if (clock.isPinned) return call(t);
    clock.pin(t);
    try {
      return call(t);
    } finally {
      clock.unpin();
    }
  };
  const change = (op: JournaledOp, args: unknown[]): unknown =>
    pinned((t) => {
      const prepared = prepareChange(registry, op, args as never);
      journal.append(JSON.stringify({ t, op: journalName(op), a: prepared.journaled }));
      return prepared.apply();
    });
  const store: Record<string, unknown> = { registry };
  for (const [name, kind] of Object.entries(STORE_OPS)) {
    const member = registry[name as keyof StoreApi] as unknown;
    if (kind === "change") {
      store[name] = (...args: unknown[]) => change(name as JournaledOp, args);
    } else if (kind === "read") {
      const call = member as (...args: unknown[]) => unknown;
      store[name] = (...args: unknown[]) =>
        pinned((t) => {
          const due = registry.nextDeadline();
          if (due !== undefined && due <= t) change("tick", []);
          return call.apply(registry, args);
        });
    } else {
      store[name] = typeof member === "function" ? member.bind(registry) : member;
    }
  }
  return store as unknown as JournaledStore;
}
