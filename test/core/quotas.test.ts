// Limits (--max-agents, --max-locks-per-agent), crashing agents on
// disconnect, and saving/loading pending waits.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { Registry } from "../../src/core/registry.js";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";

function limited(maxAgents: number, maxLocksPerAgent: number) {
  const clock = { now: 1_000 };
  const reg = new Registry({ now: () => clock.now, limits: { maxAgents, maxLocksPerAgent } });
  return { reg, clock };
}

function quotaError(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe("quota_exceeded");
    return (error as DomainError).message;
  }
  throw new Error("expected quota_exceeded");
}

describe("quotas", () => {
  it("refuses a new agent past maxAgents by every route that creates one, changing nothing", () => {
    const { reg } = limited(2, 10);
    reg.register("a");
    reg.registerWithId(7, "b");
    const before = JSON.stringify(reg.snapshot());
    expect(quotaError(() => reg.register("c"))).toBe("agent 8 would be agent number 3, past --max-agents 2");
    expect(quotaError(() => reg.registerWithId(9, "c"))).toContain("past --max-agents 2");
    expect(quotaError(() => reg.heartbeat(9))).toContain("past --max-agents 2");
    expect(quotaError(() => reg.tryLock(9, "x"))).toContain("past --max-agents 2");
    expect(quotaError(() => reg.acquire({ agentId: 9, paths: ["x"] }))).toContain("past --max-agents 2");
    expect(JSON.stringify(reg.snapshot())).toBe(before);
    expect(reg.registerWithId(7, "again")).toBe(7);
    reg.unregister(1);
    expect(reg.register("c")).toBe(8);
  });

  it("refuses a lock past maxLocksPerAgent, all or nothing; refreshing what is held is fine", () => {
    const { reg } = limited(10, 3);
    reg.acquire({ agentId: 1, paths: ["a", "b"] });
    const before = JSON.stringify(reg.snapshot());
    expect(quotaError(() => reg.acquire({ agentId: 1, paths: ["c", "d"] }))).toBe(
      "agent 1 would hold 4 locks, past --max-locks-per-agent 3",
    );
    expect(JSON.stringify(reg.snapshot())).toBe(before);
    expect(reg.acquire({ agentId: 1, paths: ["a", "b", "c"] })).toMatchObject({ granted: true });
    expect(quotaError(() => reg.tryLock(1, "d"))).toContain("would hold 4 locks");
    expect(reg.tryLock(1, "a")).toEqual({ locked: true, holder: 1 });
    expect(reg.tryLock(2, "d")).toEqual({ locked: true, holder: 2 });
  });

  it("refuses a wait that could never be granted within the quota, and ends a waiter whose grant would pass it", () => {
    const { reg } = limited(10, 2);
    reg.tryLock(1, "x");
    expect(quotaError(() => reg.acquire({ agentId: 2, paths: ["x", "y", "z"], waitMs: 1000 }, () => {}))).toContain(
      "would hold 3 locks",
    );
    const seen: WaitOutcome<AcquireResult>[] = [];
    const waiting = reg.acquire({ agentId: 2, paths: ["x"], waitMs: 10_000 }, (outcome) => seen.push(outcome));
    expect("waiting" in waiting).toBe(true);
    reg.acquire({ agentId: 2, paths: ["p", "q"] });
    reg.releaseLock(1, "x");
    expect(seen).toEqual([{ kind: "quota_exceeded", why: "agent 2 would hold 3 locks, past --max-locks-per-agent 2" }]);
    expect(reg.lockHolder("x")).toBeNull();
  });

  it(
    "ends a waiter whose agent has no record with quota_exceeded " +
      "when its grant would pass maxAgents (the record comes at the grant)",
    () => {
      const { reg } = limited(2, 10);
      reg.tryLock(1, "x");
      const seen: WaitOutcome<AcquireResult>[] = [];
      expect(reg.acquire({ agentId: 2, paths: ["x"], waitMs: 10_000 }, (outcome) => seen.push(outcome))).toEqual({
        waiting: 1,
      });
      reg.registerWithId(3, "third");
      reg.releaseLock(1, "x");
      expect(seen).toEqual([{ kind: "quota_exceeded", why: "agent 2 would be agent number 3, past --max-agents 2" }]);
      expect(reg.getAgent(2)).toBeNull();
      expect(reg.lockHolder("x")).toBeNull();
    },
  );
});

describe("crashed records past maxAgents", () => {
  it(
    "never exhaust the quota: " +
      "a new agent evicts the crashed record seen longest ago, by every route that creates one",
    () => {
      const { reg, clock } = limited(3, 10);
      // Many connection lifetimes: register, then crash on disconnect; the old code refused the 4th registration for
      // good.
      for (let lifetime = 1; lifetime <= 50; lifetime++) {
        clock.now += 10;
        const id = reg.register(`host ${lifetime}`);
        expect(reg.crashAgents([id])).toEqual([id]);
        expect(reg.listAgents().length).toBeLessThanOrEqual(3);
      }
      expect(reg.listAgents().map((a) => [a.id, a.state])).toEqual([
        [48, "crashed"],
        [49, "crashed"],
        [50, "crashed"],
      ]);
      clock.now += 10;
      reg.heartbeat(49); // revived: no longer evictable
      for (const [route, id, create] of [
        ["registerWithId", 100, () => reg.registerWithId(100, "x")],
        ["heartbeat", 101, () => reg.heartbeat(101)],
        ["tryLock", 102, () => reg.tryLock(102, "a")],
        ["acquire", 103, () => reg.acquire({ agentId: 103, paths: ["b"] })],
      ] as const) {
        clock.now += 10;
        create();
        expect(reg.getAgent(id)?.state, route).toBe("active");
        expect(reg.getAgent(49)?.state, route).toBe("active");
        expect(reg.listAgents().length, route).toBe(3);
        reg.crashAgents([id]);
      }
      expect(reg.listAgents().map((a) => a.id)).toEqual([49, 102, 103]);
    },
  );

  it(
    "evicts by last_seen_ms then id, whatever the crash order; " +
      "refuses, changing nothing, when every record is active",
    () => {
      const { reg, clock } = limited(3, 10);
      reg.registerWithId(5, "a");
      clock.now += 1;
      reg.registerWithId(2, "b");
      reg.registerWithId(9, "c");
      reg.crashAgents([9, 2, 5]);
      reg.register("d");
      expect(reg.getAgent(5)).toBeNull();
      reg.register("e");
      expect(reg.getAgent(2)).toBeNull();
      expect(reg.getAgent(9)?.state).toBe("crashed");
      reg.heartbeat(9);
      const before = JSON.stringify(reg.snapshot());
      expect(quotaError(() => reg.register("f"))).toBe("agent 12 would be agent number 4, past --max-agents 3");
      expect(quotaError(() => reg.acquire({ agentId: 20, paths: ["x", "y"] }))).toContain("past --max-agents 3");
      expect(JSON.stringify(reg.snapshot())).toBe(before);
    },
  );

  it("a restored snapshot's crashed records are evictable too", () => {
    const { reg, clock } = limited(2, 10);
    reg.register("a");
    reg.register("b");
    reg.crashAgents([1, 2]);
    const { reg: other } = limited(2, 10);
    other.restore(reg.snapshot());
    clock.now += 1;
    expect(other.register("c")).toBe(3);
    expect(other.listAgents().map((a) => a.id)).toEqual([2, 3]);
  });
});

describe("crashAgents", () => {
  it(
    "crashes the active agents given (their locks go, their waiters hear agent_gone) " + "and reports which it crashed",
    () => {
      const clock = { now: 0 };
      const reg = new Registry({ now: () => clock.now });
      reg.tryLock(1, "a");
      reg.tryLock(2, "b");
      reg.registerWithId(3, "c");
      const seen: WaitOutcome<AcquireResult>[] = [];
      reg.acquire({ agentId: 2, paths: ["a"], waitMs: 5000 }, (outcome) => seen.push(outcome));
      expect(reg.crashAgents([2, 9, 1])).toEqual([2, 1]);
      expect(seen).toEqual([{ kind: "agent_gone", why: "crashed" }]);
      expect(reg.listLocks()).toEqual([]);
      expect(reg.agentState(1)).toBe("crashed");
      expect(reg.agentState(3)).toBe("active");
      expect(reg.crashAgents([1])).toEqual([]);
      expect(reg.reap()).toEqual([1, 2]);
    },
  );
});

describe("saved waits", () => {
  it("carry the queue (ids, order, deadlines) into another registry, where they keep their place", () => {
    const clock = { now: 0 };
    const first = new Registry({ now: () => clock.now });
    first.tryLock(1, "a");
    first.acquire({ agentId: 2, paths: ["a"], waitMs: 5000 }, () => {});
    first.acquire({ agentId: 3, paths: ["a"], mode: "shared", waitMs: 9000 }, () => {});
    const saved = first.saveWaits();
    expect(saved).toEqual({
      next_id: 3,
      waits: [
        { id: 1, agentId: 2, paths: ["a"], mode: "exclusive", ttlMs: 30_000, deadline: 5000 },
        { id: 2, agentId: 3, paths: ["a"], mode: "shared", ttlMs: 30_000, deadline: 9000 },
      ],
    });
    const second = new Registry({ now: () => clock.now });
    second.restore(first.snapshot());
    const heard: string[] = [];
    second.loadWaits(saved, (id) => (outcome) => heard.push(`${id}:${outcome.kind}`));
    expect(() => second.loadWaits(saved, () => () => {})).toThrow(/already has waits/);
    expect(second.tryLock(4, "a")).toEqual({ locked: false, holder: 1 });
    second.releaseLock(1, "a");
    expect(heard).toEqual(["1:granted"]);
    clock.now = 9000;
    second.tick();
    expect(heard).toEqual(["1:granted", "2:timed_out"]);
    expect(second.saveWaits()).toEqual({ next_id: 3, waits: [] });
  });
});
