// "Re-acquiring a path you hold refreshes it" and lock_try "is re-entrant
// for the holder (refreshes the expiry)": also while others wait for it.
import { describe, expect, it } from "vitest";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";
import { manualRegistry } from "../support/manual-registry.js";

const waitFor = () => {
  const seen: WaitOutcome<AcquireResult>[] = [];
  return { seen, done: (outcome: WaitOutcome<AcquireResult>) => void seen.push(outcome) };
};

describe("a holder refreshes what it holds while others wait for it", () => {
  it("lock_try and lock_acquire (with or without wait_ms) refresh an exclusive lock someone waits for", () => {
    const { reg, clock } = manualRegistry();
    reg.tryLock(1, "a");
    const other = waitFor();
    reg.acquire({ agentId: 2, paths: ["a"], waitMs: 60_000 }, other.done);
    clock.now = 1_000;
    expect(reg.tryLock(1, "a", 90_000)).toEqual({ locked: true, holder: 1 });
    expect(reg.acquire({ agentId: 1, paths: ["a"], ttlMs: 95_000 })).toMatchObject({
      granted: true,
      locks: [{ path: "a", fence: 1, expires_at_ms: 96_000 }],
    });
    const mine = waitFor();
    expect(reg.acquire({ agentId: 1, paths: ["a"], ttlMs: 99_000, waitMs: 10 }, mine.done)).toMatchObject({
      granted: true,
    });
    expect(reg.lockCheck(1, ["a"])).toEqual([]);
    expect(other.seen).toEqual([]);
    expect(reg.lockInfo("a")).toMatchObject({ holders: [{ agent_id: 1, expires_at_ms: 100_000 }], waiters: 1 });
  });

  it("a shared holder refreshes (or an exclusive holder downgrades) while an exclusive request waits", () => {
    const { reg } = manualRegistry();
    reg.acquire({ agentId: 1, paths: ["s"], mode: "shared" });
    reg.acquire({ agentId: 3, paths: ["x"] });
    const other = waitFor();
    reg.acquire({ agentId: 2, paths: ["s", "x"], waitMs: 60_000 }, other.done);
    expect(reg.acquire({ agentId: 1, paths: ["s"], mode: "shared", ttlMs: 5 })).toMatchObject({ granted: true });
    expect(reg.acquire({ agentId: 3, paths: ["x"], mode: "shared" })).toMatchObject({ granted: true });
    expect(other.seen).toEqual([]);
  });

  it("an upgrade or a new path is a new claim: it still waits behind the queue (no barging)", () => {
    const { reg } = manualRegistry();
    reg.acquire({ agentId: 1, paths: ["s"], mode: "shared" });
    const other = waitFor();
    reg.acquire({ agentId: 2, paths: ["s"], waitMs: 60_000 }, other.done);
    expect(reg.acquire({ agentId: 1, paths: ["s"] })).toMatchObject({
      granted: false,
      conflicts: [{ holder: 2, queued: true }],
    });
    expect(reg.acquire({ agentId: 1, paths: ["s", "t"], mode: "shared" })).toMatchObject({ granted: false });
  });
});
