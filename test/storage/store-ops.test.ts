// STORE_OPS classifies every store member; the journal trusts it. A member
// classified read or direct must change no state (a read may apply the
// deadlines that are due, as a journaled tick would), whatever the registry
// holds: waits, crashed agents not yet reaped, locks left by the
// lock-delay, history. Checked on the whole registry object, so state that
// no snapshot shows (the agents the next reap reports) counts too.
import { describe, expect, it } from "vitest";
import { Registry } from "../../src/core/registry.js";
import { type DirectOp, JOURNALED_OPS, type ReadOp, STORE_OPS, type StoreApi } from "../../src/storage/store-ops.js";

/** One call of every member that is not a change. */
const calls = {
  events: (store) => store.events.latestSeq,
  now: (store) => store.now(),
  config: (store) => store.config(),
  nextDeadline: (store) => store.nextDeadline(),
  lockHolder: (store) => store.lockHolder("src/a"),
  lockInfo: (store) => store.lockInfo("src"),
  lockCheck: (store) => store.lockCheck(2, ["src", "docs"], "exclusive"),
  listLocks: (store) => store.listLocks({ prefix: "src" }),
  agentState: (store) => store.agentState(3),
  getAgent: (store) => store.getAgent(1),
  agentDetails: (store) => store.agentDetails(),
  listAgents: (store) => store.listAgents(),
  stats: (store) => store.stats(),
  changesSince: (store) => store.changesSince(0, 5),
  currentSeq: (store) => store.currentSeq(),
  snapshot: (store) => store.snapshot(),
} satisfies Record<ReadOp | DirectOp, (store: StoreApi) => unknown>;

// Two registries built alike hold different closures (heap orders, callbacks
// made per instance) and large typed arrays (the event ring): compare
// closures by their code and typed arrays by their bytes.
expect.addEqualityTesters([
  (a: unknown, b: unknown) => (typeof a === "function" && typeof b === "function" ? `${a}` === `${b}` : undefined),
  (a: unknown, b: unknown) => (ArrayBuffer.isView(a) && ArrayBuffer.isView(b) ? bytes(a).equals(bytes(b)) : undefined),
]);

function bytes(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

let now = 1_000;
const clock = () => now;
const onWaitDone = () => {};

/** A registry holding a bit of everything; two calls give two equal registries. */
function busyRegistry(): Registry {
  now = 1_000;
  const config = { default_lock_ttl_ms: 2_000, agent_timeout_ms: 5_000 };
  const registry = new Registry({ now: clock, crashLockDelayMs: 500, config });
  registry.registerWithId(1, "one");
  registry.tryLock(1, "src/a");
  registry.acquire({ agentId: 2, paths: ["src"], waitMs: 10_000 }, onWaitDone);
  registry.tryLock(3, "docs");
  registry.crashAgents([3]);
  registry.recordVersion({ path: "src/a", agentId: 1, hash: "18446744073709551615" });
  now = 1_200;
  registry.heartbeat(4);
  return registry;
}

describe("STORE_OPS", () => {
  it("names every change the journal knows, and nothing else as one", () => {
    expect(JOURNALED_OPS).toContain("reap");
    expect([...JOURNALED_OPS].sort()).toEqual(
      Object.keys(STORE_OPS)
        .filter((op) => !(op in calls))
        .sort(),
    );
  });

  const members = Object.keys(calls) as (keyof typeof calls)[];
  it.each(members)("%s changes nothing but the deadlines due, at any time", (op) => {
    for (const at of [1_300, 3_500, 9_000]) {
      const called = busyRegistry();
      const untouched = busyRegistry();
      now = at;
      calls[op](called);
      if (STORE_OPS[op] === "read") untouched.tick();
      called.now();
      untouched.now();
      expect(called, `${op} at ${at}`).toEqual(untouched);
    }
  });
});
