// Ownership of agents on a socket server (src/server/ownership.ts), with a
// waiting lock_acquire whose agent has no record until it is granted.
import { CancellationToken } from "vscode-jsonrpc/node";
import { describe, expect, it } from "vitest";
import { Registry } from "../../src/core/registry.js";
import { Owners } from "../../src/server/ownership.js";
import { ConnectionWaits } from "../../src/server/waits.js";

const A = 1;
const B = 2;

function setup() {
  const clock = { now: 0 };
  const reg = new Registry({ now: () => clock.now });
  return { reg, clock, owners: new Owners(reg), waits: new ConnectionWaits(reg) };
}

describe("ownership of a waiting lock_acquire's agent", () => {
  it("a wait granted later makes the agent, registered at the grant, belong to the waiting connection", async () => {
    const { reg, owners, waits } = setup();
    owners.actAs(B, 1, () => reg.tryLock(1, "f"));
    const reply = owners.actAs(A, 7, () =>
      waits.acquire({ agentId: 7, paths: ["f"], waitMs: 60_000 }, CancellationToken.None),
    );
    expect(reply).toBeInstanceOf(Promise);
    expect(reg.getAgent(7)).toBeNull();
    owners.actAs(B, 1, () => reg.releaseLock(1, "f"));
    await expect(reply).resolves.toMatchObject({ granted: true });
    expect(reg.agentState(7)).toBe("active");
    expect(() => owners.actAs(B, 7, () => reg.heartbeat(7))).toThrow(
      /agent 7 is live and belongs to another connection/,
    );
    expect(owners.disconnect(A)).toEqual([7]);
  });

  it("a wait that ends ungranted leaves the agent without a record and without an owner", async () => {
    const { reg, clock, owners, waits } = setup();
    owners.actAs(B, 1, () => reg.tryLock(1, "f"));
    const reply = owners.actAs(A, 7, () =>
      waits.acquire({ agentId: 7, paths: ["f"], waitMs: 1_000 }, CancellationToken.None),
    );
    clock.now = 1_000;
    reg.tick();
    await expect(reply).resolves.toMatchObject({ granted: false });
    expect(reg.getAgent(7)).toBeNull();
    expect(owners.disconnect(A)).toEqual([]);
    expect(owners.actAs(B, 7, () => reg.registerWithId(7, "seven"))).toBe(7);
    expect(owners.disconnect(B)).toEqual([1, 7]);
  });
});
