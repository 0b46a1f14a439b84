// A core Registry served the way PostgreSQL state serves one: every change
// and read answers with a promise that settles on a LATER macrotask
// (setImmediate), in call order, and a manual clock moves in that same
// order (clock_set is a change like any other). Its view is the registry
// itself, read at once. The server suites run against it (WireSession's
// `store: "async"`) to show that the server keeps its promises when every
// call is a round trip.
import { DomainError } from "../../src/core/errors.js";
import { Registry } from "../../src/core/registry.js";
import type { ServedStore } from "../../src/core/store.js";
import { type ServerClock, manualClock, systemClock } from "../../src/server/clock.js";
import type { ServedState, StoreSettings } from "../../src/server/open-state.js";

/** Run `call` on a later macrotask; its result or error settles the promise. */
function later<T>(call: () => T): Promise<T> {
  return new Promise((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(call());
      } catch (error) {
        reject(error);
      }
    }),
  );
}

/**
 * Open a registry served as a store that answers later (see the top of this file). While `down()` is true, every call
 * fails, unapplied, with store_unavailable, as PostgreSQL state's do while its database cannot be reached.
 */
export async function openAsyncStore(settings: StoreSettings, down = () => false): Promise<ServedState> {
  const manual = settings.clock === "manual";
  /** The time the registry runs at: with a manual clock, the last clock_set applied in call order. */
  let applied = 0;
  const registry = new Registry({
    now: manual ? () => applied : Date.now,
    config: settings.config,
    crashLockDelayMs: settings.crashLockDelayMs,
    limits: settings.limits,
  });
  const store: Record<string, unknown> = { events: registry.events };
  for (const name of Object.getOwnPropertyNames(Registry.prototype)) {
    const method = (registry as unknown as Record<string, unknown>)[name];
    if (name !== "constructor" && typeof method === "function")
      store[name] = (...args: unknown[]) =>
        later(() => {
          if (down())
            throw new DomainError("store_unavailable", "the PostgreSQL state could not be reached; not applied");
          return method.apply(registry, args);
        });
  }
  /** Refuses a move backwards at once, as the manual clock does; the move itself is applied in call order. */
  const asked = manualClock();
  const clock: ServerClock = manual
    ? {
        kind: "manual",
        now: () => applied,
        set: (nowMs) => {
          asked.set(nowMs);
          void later(() => (applied = nowMs));
          return nowMs;
        },
      }
    : systemClock();
  return {
    store: store as ServedStore,
    view: registry,
    clock,
    close: async () => {},
  };
}
