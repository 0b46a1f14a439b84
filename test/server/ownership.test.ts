// Ownership of agents on a socket server (src/server/ownership.ts), with a
// waiting lock_acquire whose agent has no record until it is granted, on a
// store that answers at once and on one that answers later.
import { CancellationToken } from "vscode-jsonrpc/node";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, Registry } from "../../src/core/registry.js";
import type { RegistryStore, ServedStore } from "../../src/core/store.js";
import { type ServerClock, manualClock } from "../../src/server/clock.js";
import { Owners } from "../../src/server/ownership.js";
import { ConnectionWaits } from "../../src/server/waits.js";
import { openAsyncStore } from "../support/async-store.js";
import { STORES, type StoreKind } from "../support/wire-session.js";

const A = 1;
const B = 2;
const C = 3;

async function setup(kind: StoreKind) {
  let served: { store: ServedStore; view: RegistryStore; clock: ServerClock };
  if (kind === "memory") {
    const clock = manualClock();
    const reg = new Registry({ now: clock.now });
    served = { store: reg, view: reg, clock };
  } else {
    served = await openAsyncStore({ clock: "manual", config: {}, crashLockDelayMs: 0, limits: DEFAULT_LIMITS });
  }
  const owners = new Owners(served.view);
  // Connection A's waits, wired as a session wires them: a wait that starts acts as its agent.
  const waits = new ConnectionWaits(served.store, (agentId) => owners.waiting(A, agentId));
  return { ...served, owners, waits };
}

describe.each(STORES)("ownership of a waiting lock_acquire's agent (%s store)", (kind) => {
  it("a wait granted later makes the agent, registered at the grant, belong to the waiting connection", async () => {
    const { store, view, owners, waits } = await setup(kind);
    await owners.actAs(B, 1, () => store.tryLock(1, "f"));
    const reply = owners.actAs(A, 7, () =>
      waits.acquire({ agentId: 7, paths: ["f"], waitMs: 60_000 }, CancellationToken.None),
    );
    expect(reply).toBeInstanceOf(Promise);
    expect(view.getAgent(7)).toBeNull();
    await owners.actAs(B, 1, () => store.releaseLock(1, "f"));
    await expect(reply).resolves.toMatchObject({ granted: true });
    expect(view.agentState(7)).toBe("active");
    expect(() => owners.actAs(B, 7, () => store.heartbeat(7))).toThrow(
      /agent 7 is live and belongs to another connection/,
    );
    expect(owners.disconnect(A)).toEqual([7]);
  });

  it("a wait that ends ungranted leaves the agent without a record and without an owner", async () => {
    const { store, view, clock, owners, waits } = await setup(kind);
    await owners.actAs(B, 1, () => store.tryLock(1, "f"));
    const reply = owners.actAs(A, 7, () =>
      waits.acquire({ agentId: 7, paths: ["f"], waitMs: 1_000 }, CancellationToken.None),
    );
    clock.set(1_000);
    await store.tick();
    await expect(reply).resolves.toMatchObject({ granted: false });
    expect(view.getAgent(7)).toBeNull();
    expect(owners.disconnect(A)).toEqual([]);
    expect(await owners.actAs(B, 7, () => store.registerWithId(7, "seven"))).toBe(7);
    expect(owners.disconnect(B)).toEqual([1, 7]);
  });

  it("a wait acts as its live agent when it starts: an unowned agent belongs to the waiting connection", async () => {
    const { store, owners, waits } = await setup(kind);
    await owners.actAs(B, 1, () => store.tryLock(1, "f"));
    await owners.actAs(C, 5, () => store.registerWithId(5, "five"));
    owners.disconnect(C);
    const reply = owners.actAs(A, 5, () =>
      waits.acquire({ agentId: 5, paths: ["f"], waitMs: 60_000 }, CancellationToken.None),
    );
    await store.lockInfo("f");
    expect(() => owners.actAs(C, 5, () => store.heartbeat(5))).toThrow(/belongs to another connection/);
    await owners.actAs(B, 1, () => store.releaseLock(1, "f"));
    await expect(reply).resolves.toMatchObject({ granted: true });
    expect(owners.disconnect(A)).toEqual([5]);
  });

  it("a call that fails does not act as its agent", async () => {
    const { store, owners } = await setup(kind);
    await owners.actAs(C, 5, () => store.registerWithId(5, "five"));
    owners.disconnect(C);
    await expect(async () => owners.actAs(A, 5, () => store.tryLock(5, "../x"))).rejects.toThrow(/climbs above/);
    expect(await owners.actAs(C, 5, () => store.heartbeat(5))).toBeUndefined();
    expect(owners.disconnect(C)).toEqual([5]);
  });
});
