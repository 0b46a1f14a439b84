// Issue 4 behaviours, one by one: modes, directories, atomic acquire,
// fences, waiting, lock-delay, events, and the operator methods.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { RULES, Registry } from "../../src/core/registry.js";
import type { RegistryEvent } from "../../src/core/events.js";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";
import { manualRegistry } from "../support/manual-registry.js";

function outcomes() {
  const seen: WaitOutcome<AcquireResult>[] = [];
  return { seen, done: (o: WaitOutcome<AcquireResult>) => void seen.push(o) };
}

describe("one conflict rule", () => {
  it("a directory lock covers its files by whole segments", () => {
    const { reg } = manualRegistry();
    expect(reg.acquire({ agentId: 1, paths: ["src"] })).toMatchObject({ granted: true });
    expect(reg.tryLock(2, "src/a.rs")).toEqual({ locked: false, holder: 1 });
    expect(reg.tryLock(2, "srcx/a.rs")).toEqual({ locked: true, holder: 2 });
    expect(reg.tryLock(1, "src/deep/b.rs")).toEqual({ locked: true, holder: 1 });
    expect(reg.lockHolder("src/any/thing")).toBe(1);
  });

  it("a file lock blocks an exclusive lock on its directory, and names its holder", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "src/deep/a.rs");
    expect(reg.tryLock(2, "src")).toEqual({ locked: false, holder: 1 });
    expect(reg.lockHolder("src")).toBe(1);
    expect(reg.acquire({ agentId: 2, paths: ["src"], mode: "shared" })).toMatchObject({
      granted: false,
      conflicts: [{ path: "src/deep/a.rs", holder: 1, mode: "exclusive", queued: false }],
    });
  });

  it("readers share; a writer waits for all of them; the earliest reader is named", () => {
    const { reg } = manualRegistry();
    expect(reg.acquire({ agentId: 1, paths: ["f"], mode: "shared" })).toMatchObject({ granted: true });
    expect(reg.acquire({ agentId: 2, paths: ["f"], mode: "shared" })).toMatchObject({ granted: true });
    expect(reg.tryLock(3, "f")).toEqual({ locked: false, holder: 1 });
    expect(reg.lockHolder("f")).toBe(1);
    expect(reg.lockInfo("f")).toEqual({
      path: "f",
      mode: "shared",
      holders: [
        { agent_id: 1, fence: 1, expires_at_ms: 30_000 },
        { agent_id: 2, fence: 2, expires_at_ms: 30_000 },
      ],
      waiters: 0,
    });
  });

  it("upgrades shared to exclusive only when nobody else holds it, and downgrades freely, keeping the fence", () => {
    const { reg } = manualRegistry();
    reg.acquire({ agentId: 1, paths: ["f"], mode: "shared" });
    reg.acquire({ agentId: 2, paths: ["f"], mode: "shared" });
    expect(reg.acquire({ agentId: 1, paths: ["f"], mode: "exclusive" })).toMatchObject({ granted: false });
    reg.releaseLock(2, "f");
    expect(reg.acquire({ agentId: 1, paths: ["f"], mode: "exclusive" })).toEqual({
      granted: true,
      locks: [{ path: "f", mode: "exclusive", fence: 1, expires_at_ms: 30_000 }],
      conflicts: [],
    });
    expect(reg.acquire({ agentId: 1, paths: ["f"], mode: "shared" })).toMatchObject({
      locks: [{ mode: "shared", fence: 1 }],
    });
    expect(reg.acquire({ agentId: 2, paths: ["f"], mode: "shared" })).toMatchObject({ granted: true });
  });

  it("is all or nothing across paths", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "b");
    const result = reg.acquire({ agentId: 2, paths: ["a", "b", "c"] });
    expect(result).toMatchObject({ granted: false, locks: [], conflicts: [{ path: "b", holder: 1 }] });
    expect(reg.listLocks().map((l) => l.path)).toEqual(["b"]);
    expect(reg.getAgent(2)).toBeNull();
  });

  it("rejects bad acquire input and changes nothing", () => {
    const { reg } = manualRegistry();
    const before = reg.snapshot();
    expect(() => reg.acquire({ agentId: 1, paths: [] })).toThrow(/paths must be a list of 1 to 256 paths/);
    expect(() => reg.acquire({ agentId: 1, paths: Array.from({ length: 257 }, (_, i) => `p${i}`) })).toThrow(
      /1 to 256/,
    );
    expect(() => reg.acquire({ agentId: 1, paths: ["ok", "../no"] })).toThrow(/paths\[1\] climbs above/);
    expect(() => reg.acquire({ agentId: 1, paths: ["ok"], mode: "read" as "shared" })).toThrow(
      /mode must be exclusive or shared/,
    );
    expect(() => reg.acquire({ agentId: 1, paths: ["ok"], waitMs: -1 })).toThrow(/wait_ms/);
    expect(reg.snapshot()).toEqual(before);
  });
});

describe("fencing tokens", () => {
  it("increase strictly with every new grant and are kept by refreshes", () => {
    const { reg } = manualRegistry();
    const fences = ["a", "b", "c"].map(
      (p) => (reg.acquire({ agentId: 1, paths: [p] }) as AcquireResult).locks[0]?.fence,
    );
    expect(fences).toEqual([1, 2, 3]);
    reg.releaseLock(1, "a");
    expect((reg.acquire({ agentId: 1, paths: ["b", "a"] }) as AcquireResult).locks.map((l) => l.fence)).toEqual([2, 4]);
  });

  it("are never reused, across a restore of an older snapshot too", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "a");
    const old = reg.snapshot();
    reg.tryLock(1, "b");
    reg.tryLock(1, "c");
    reg.restore(old);
    expect((reg.acquire({ agentId: 1, paths: ["d"] }) as AcquireResult).locks[0]?.fence).toBe(4);
  });

  it("gate version_record: a stale fence records nothing", () => {
    const { reg, clock } = manualRegistry();
    const fence = (reg.acquire({ agentId: 1, paths: ["src"], ttlMs: 100 }) as AcquireResult).locks[0]?.fence as number;
    expect(reg.recordVersion({ agentId: 1, path: "src/a.rs", fence })).toBe(1);
    expect(() => reg.recordVersion({ agentId: 1, path: "src/a.rs", fence: fence + 1 })).toThrow(DomainError);
    expect(() => reg.recordVersion({ agentId: 2, path: "src/a.rs", fence })).toThrow(/stale|not a live lock/);
    clock.now = 100;
    expect(() => reg.recordVersion({ agentId: 1, path: "src/a.rs", fence })).toThrow(
      /fence 1 is not a live lock of agent 1 on "src\/a.rs"/,
    );
    expect(reg.currentSeq()).toBe(1);
  });

  it(
    "authorise a write only under an exclusive lock: " +
      "a fence of a shared lock, on the path or a covering directory, records nothing",
    () => {
      const { reg } = manualRegistry();
      const [sharedDir] = (reg.acquire({ agentId: 1, paths: ["src"], mode: "shared" }) as AcquireResult).locks;
      reg.acquire({ agentId: 2, paths: ["src"], mode: "shared" });
      const [sharedFile] = (reg.acquire({ agentId: 1, paths: ["docs/a.md"], mode: "shared" }) as AcquireResult).locks;
      for (const [path, fence] of [
        ["src/a.rs", sharedDir?.fence],
        ["docs/a.md", sharedFile?.fence],
      ] as const) {
        const record = () => reg.recordVersion({ agentId: 1, path, fence });
        expect(record).toThrow(DomainError);
        expect(record).toThrow(/shared lock .*a fence authorises a write only under an exclusive lock/);
      }
      expect(reg.currentSeq()).toBe(0);
      const [exclusive] = (reg.acquire({ agentId: 1, paths: ["docs"] }) as AcquireResult).locks;
      expect(reg.recordVersion({ agentId: 1, path: "docs/a.md", fence: exclusive?.fence })).toBe(1);
    },
  );

  it("name the problem once, without the method (the server adds it)", () => {
    const { reg } = manualRegistry();
    expect(() => reg.recordVersion({ agentId: 1, path: "f", fence: 9 })).toThrow(
      /^fence 9 is not a live lock of agent 1 on "f"/,
    );
  });

  it("format-1 snapshots restore as exclusive locks with fresh fences", () => {
    const { reg } = manualRegistry(0);
    const v1 = {
      format_version: 1,
      taken_at_ms: 0,
      config: { default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 },
      agents: {
        next_id: 3,
        agents: [
          { id: 2, name: "b", state: "active", last_seen_ms: 0, edit_count: 0, locked_paths: { y: 9_000, x: 9_000 } },
        ],
      },
      versions: { current_seq: 0, history: {} },
    };
    expect(reg.restore(v1)).toEqual({ agents: 1, locks: 2, current_seq: 0 });
    expect(reg.snapshot().agents).toEqual({
      next_id: 3,
      next_fence: 3,
      agents: [
        {
          id: 2,
          name: "b",
          state: "active",
          last_seen_ms: 0,
          edit_count: 0,
          locked_paths: { x: 9_000, y: 9_000 },
          lock_fences: { x: 2, y: 1 },
          shared_paths: [],
        },
      ],
    });
  });
});

describe("waiting", () => {
  it("grants a waiter the moment its conflict is released, FIFO, with no barging", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "f");
    const w2 = outcomes();
    const w3 = outcomes();
    expect(reg.acquire({ agentId: 2, paths: ["f"], waitMs: 1_000 }, w2.done)).toEqual({ waiting: 1 });
    expect(reg.acquire({ agentId: 3, paths: ["f"], waitMs: 1_000 }, w3.done)).toEqual({ waiting: 2 });
    expect(reg.acquire({ agentId: 4, paths: ["f/x"], mode: "shared" })).toMatchObject({ granted: false });
    expect(reg.lockInfo("f")?.waiters).toBe(2);
    reg.releaseLock(1, "f");
    expect(w2.seen).toEqual([
      {
        kind: "granted",
        result: {
          granted: true,
          locks: [{ path: "f", mode: "exclusive", fence: 2, expires_at_ms: 30_000 }],
          conflicts: [],
        },
      },
    ]);
    expect(w3.seen).toEqual([]);
    reg.releaseLock(2, "f");
    expect(w3.seen[0]?.kind).toBe("granted");
  });

  it("a later request that conflicts only with a queued one waits behind it", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "a");
    const w = outcomes();
    reg.acquire({ agentId: 2, paths: ["a", "b"], waitMs: 1_000 }, w.done);
    expect(reg.tryLock(3, "b")).toEqual({ locked: false, holder: null });
    expect(reg.lockCheck(3, ["b"])).toEqual([
      { path: "b", holder: 2, mode: "exclusive", expires_at_ms: null, queued: true },
    ]);
    expect(reg.acquire({ agentId: 3, paths: ["c"] })).toMatchObject({ granted: true });
  });

  it("answers granted: false with the conflicts at the deadline, on the manual clock", () => {
    const { reg, clock } = manualRegistry();
    reg.tryLock(1, "f", 10_000);
    const w = outcomes();
    reg.acquire({ agentId: 2, paths: ["f"], waitMs: 500 }, w.done);
    clock.now = 499;
    reg.tick();
    expect(w.seen).toEqual([]);
    clock.now = 500;
    reg.tick();
    expect(w.seen).toEqual([
      {
        kind: "timed_out",
        result: {
          granted: false,
          locks: [],
          conflicts: [{ path: "f", holder: 1, mode: "exclusive", expires_at_ms: 10_000, queued: false }],
        },
      },
    ]);
  });

  it("is granted, not timed out, when the conflict expires exactly at the deadline (granted at that instant)", () => {
    const { reg, clock } = manualRegistry();
    reg.tryLock(1, "f", 500);
    const w = outcomes();
    reg.acquire({ agentId: 2, paths: ["f"], waitMs: 500 }, w.done);
    clock.now = 10_000;
    reg.tick();
    expect(w.seen[0]).toMatchObject({ kind: "granted", result: { locks: [{ expires_at_ms: 30_500 }] } });
  });

  it("tells a waiter whose agent crashes or is unregistered that its agent is gone", () => {
    const { reg, clock } = manualRegistry();
    reg.tryLock(1, "f", 1_000_000);
    const crashing = outcomes();
    const leaving = outcomes();
    reg.heartbeat(2);
    reg.acquire({ agentId: 2, paths: ["f"], waitMs: 1_000_000 }, crashing.done);
    reg.acquire({ agentId: 3, paths: ["f"], waitMs: 1_000_000 }, leaving.done);
    reg.unregister(3);
    expect(leaving.seen).toEqual([{ kind: "agent_gone", why: "unregistered" }]);
    clock.now = 40_000;
    reg.heartbeat(1);
    clock.now = 45_001;
    reg.tick();
    expect(crashing.seen).toEqual([{ kind: "agent_gone", why: "crashed" }]);
  });

  it("cancels a waiter once", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "f");
    const w = outcomes();
    const { waiting } = reg.acquire({ agentId: 2, paths: ["f"], waitMs: 1_000 }, w.done) as { waiting: number };
    expect(reg.cancelWait(waiting)).toBe(true);
    expect(reg.cancelWait(waiting)).toBe(false);
    expect(w.seen).toEqual([{ kind: "cancelled" }]);
  });

  it(
    "registers an unknown agent when it grants (lock_acquire too; a waiting one when its wait is granted). " +
      "A refused lock changes nothing, nor does a wait that ends ungranted.",
    () => {
      const { reg, clock } = manualRegistry();
      reg.tryLock(1, "f", 1_000_000);
      const types = () =>
        reg.events.since(0).map((event) => `${event.type}:${"agent_id" in event ? event.agent_id : ""}`);
      const before = { snapshot: reg.snapshot(), events: types() };
      const timing = outcomes();
      const cancelled = outcomes();
      reg.acquire({ agentId: 2, paths: ["f"], waitMs: 1_000 }, timing.done);
      const { waiting } = reg.acquire({ agentId: 3, paths: ["f"], waitMs: 1_000_000 }, cancelled.done) as {
        waiting: number;
      };
      expect(reg.getAgent(2)).toBeNull();
      expect(reg.getAgent(3)).toBeNull();
      expect(reg.listAgents().map((agent) => agent.id)).toEqual([1]);
      clock.now = 1_000;
      reg.tick();
      expect(timing.seen).toMatchObject([{ kind: "timed_out", result: { granted: false } }]);
      reg.cancelWait(waiting);
      expect(cancelled.seen).toEqual([{ kind: "cancelled" }]);
      expect(reg.snapshot()).toEqual({ ...before.snapshot, taken_at_ms: 1_000 });
      expect(types()).toEqual(before.events);

      const granted = outcomes();
      reg.acquire({ agentId: 4, paths: ["f"], mode: "shared", ttlMs: 500, waitMs: 1_000_000 }, granted.done);
      clock.now = 2_000;
      reg.releaseLock(1, "f");
      expect(granted.seen).toMatchObject([
        { kind: "granted", result: { granted: true, locks: [{ path: "f", mode: "shared", expires_at_ms: 2_500 }] } },
      ]);
      expect(reg.getAgent(4)).toMatchObject({ name: "agent-4", state: "active", last_seen_ms: 2_000 });
      expect(types().slice(before.events.length)).toEqual(["lock/released:1", "agent/registered:4", "lock/granted:4"]);
      expect(
        reg.events.since(0).find((event) => event.type === "agent/registered" && event.agent_id === 4)?.at_ms,
      ).toBe(2_000);
    },
  );

  it("a waiter whose agent has no record cannot crash: its wait ends at its deadline, past the agent timeout", () => {
    const { reg, clock } = manualRegistry();
    reg.tryLock(1, "f", 1_000_000);
    const w = outcomes();
    reg.acquire({ agentId: 2, paths: ["f"], waitMs: 100_000 }, w.done);
    clock.now = 40_000;
    reg.heartbeat(1);
    clock.now = 45_001;
    reg.tick();
    expect(w.seen).toEqual([]);
    clock.now = 80_000;
    reg.heartbeat(1);
    clock.now = 100_000;
    reg.tick();
    expect(w.seen).toMatchObject([{ kind: "timed_out" }]);
    expect(reg.getAgent(2)).toBeNull();
    expect(reg.reap()).toEqual([]);
  });

  it(
    "unregistering an agent that only waits (no record yet) " +
      "ends its wait with agent_gone and changes nothing else",
    () => {
      const { reg } = manualRegistry();
      reg.tryLock(1, "f");
      const w = outcomes();
      reg.acquire({ agentId: 2, paths: ["f"], waitMs: 1_000 }, w.done);
      const latest = reg.events.latestSeq;
      expect(reg.unregister(2)).toBe(false);
      expect(w.seen).toEqual([{ kind: "agent_gone", why: "unregistered" }]);
      expect(reg.events.latestSeq).toBe(latest);
      expect(reg.lockInfo("f")).toMatchObject({ waiters: 0 });
    },
  );
});

describe("crash lock-delay", () => {
  it("keeps a crashed holder's paths from others for the delay; a clean release frees at once", () => {
    const clock = { now: 0 };
    const reg = new Registry({ now: () => clock.now, crashLockDelayMs: 5_000, config: { agent_timeout_ms: 1_000 } });
    reg.tryLock(1, "crashy", 1_000_000);
    reg.tryLock(2, "clean", 1_000_000);
    reg.releaseLock(2, "clean");
    expect(reg.tryLock(3, "clean")).toMatchObject({ locked: true });
    clock.now = 500;
    reg.heartbeat(3);
    clock.now = 1_001;
    expect(reg.getAgent(1)?.state).toBe("crashed");
    expect(reg.listLocks().map((l) => l.path)).toEqual(["clean"]);
    expect(reg.tryLock(3, "crashy")).toEqual({ locked: false, holder: 1 });
    clock.now = 6_000;
    expect(reg.tryLock(3, "crashy")).toEqual({ locked: false, holder: 1 });
    clock.now = 6_001;
    expect(reg.tryLock(3, "crashy")).toEqual({ locked: true, holder: 3 });
    const released = reg.events.since(0).filter((event) => event.type === "lock/released" && event.path === "crashy");
    expect(released.map((event) => "reason" in event && event.reason)).toEqual(["crashed"]);
    expect(reg.stats().locks.expired).toBe(0);
  });
});

describe("operator and bulk methods", () => {
  it("renews what is held and reports the rest missing", () => {
    const { reg, clock } = manualRegistry();
    reg.acquire({ agentId: 1, paths: ["a", "b"], ttlMs: 100 });
    clock.now = 50;
    expect(reg.renew(1, ["a", "zzz"], 1_000)).toEqual({
      renewed: [{ path: "a", mode: "exclusive", fence: 1, expires_at_ms: 1_050 }],
      missing: ["zzz"],
    });
    clock.now = 200;
    expect(reg.renew(1)).toEqual({
      renewed: [{ path: "a", mode: "exclusive", fence: 1, expires_at_ms: 30_200 }],
      missing: [],
    });
    expect(reg.renew(1, ["b"])).toEqual({ renewed: [], missing: ["b"] });
  });

  it(
    "renew extends to expire no earlier than ttl_ms from now. " +
      "A renew never shortens a lock: one that already expires later keeps its expiry",
    () => {
      const { reg, clock } = manualRegistry();
      reg.acquire({ agentId: 1, paths: ["long", "short"], ttlMs: 30_000 });
      reg.acquire({ agentId: 1, paths: ["short"], ttlMs: 200 });
      clock.now = 100;
      expect(reg.renew(1, ["long"], 100)).toEqual({
        renewed: [{ path: "long", mode: "exclusive", fence: 1, expires_at_ms: 30_000 }],
        missing: [],
      });
      expect(reg.renew(1, undefined, 1_000)).toEqual({
        renewed: [
          { path: "long", mode: "exclusive", fence: 1, expires_at_ms: 30_000 },
          { path: "short", mode: "exclusive", fence: 2, expires_at_ms: 1_100 },
        ],
        missing: [],
      });
      expect(reg.getAgent(1)?.last_seen_ms).toBe(100);
      clock.now = 1_100;
      expect(reg.listLocks().map((lock) => lock.path)).toEqual(["long"]);
      clock.now = 29_999;
      expect(reg.lockInfo("long")?.holders).toEqual([{ agent_id: 1, fence: 1, expires_at_ms: 30_000 }]);
    },
  );

  it(
    "under rules 1 (journals written before rules were numbered) " +
      "a renew set the expiry to now + ttl_ms, shortening, and a wait registered its agent at once",
    () => {
      const { reg } = manualRegistry();
      reg.setProcessOptions({ ...reg.processOptions(), rules: undefined });
      expect(reg.processOptions().rules).toBe(1);
      reg.acquire({ agentId: 1, paths: ["long"], ttlMs: 30_000 });
      expect(reg.renew(1, ["long"], 100).renewed).toMatchObject([{ path: "long", expires_at_ms: 100 }]);
      reg.acquire({ agentId: 2, paths: ["long"], waitMs: 10 }, () => {});
      expect(reg.agentState(2)).toBe("active");
      expect(() => reg.setProcessOptions({ ...reg.processOptions(), rules: RULES + 1 })).toThrow(
        /^rules must be at most/,
      );
    },
  );

  it("releases all of an agent's locks, and force-releases a path whoever holds it", () => {
    const { reg } = manualRegistry();
    reg.acquire({ agentId: 1, paths: ["b", "a"] });
    reg.acquire({ agentId: 2, paths: ["s"], mode: "shared" });
    reg.acquire({ agentId: 3, paths: ["s"], mode: "shared" });
    expect(reg.releaseAll(1)).toEqual(["a", "b"]);
    expect(reg.forceRelease("s", "stuck reader")).toEqual([
      { path: "s", agent_id: 2 },
      { path: "s", agent_id: 3 },
    ]);
    expect(reg.listLocks()).toEqual([]);
    const released = reg.events.since(0).filter((e) => e.type === "lock/released");
    expect(released.map((e) => e.type === "lock/released" && [e.path, e.reason, e.note])).toEqual([
      ["a", "released", undefined],
      ["b", "released", undefined],
      ["s", "forced", "stuck reader"],
      ["s", "forced", "stuck reader"],
    ]);
  });
});

describe("events", () => {
  it("numbers every change and says why a lock went", () => {
    const { reg, clock } = manualRegistry();
    const seen: string[] = [];
    reg.events.subscribe((e) => seen.push(`${e.event_seq} ${e.type}${"reason" in e ? `:${e.reason}` : ""}`));
    reg.register("a");
    reg.tryLock(1, "f", 10);
    clock.now = 10;
    reg.tick();
    reg.tryLock(2, "g");
    reg.registerWithId(2, "again");
    reg.tryLock(3, "h");
    reg.unregister(3);
    clock.now = 50_000;
    reg.tick();
    expect(seen).toEqual([
      "1 agent/registered",
      "2 lock/granted",
      "3 lock/released:expired",
      "4 agent/registered",
      "5 lock/granted",
      "6 lock/released:replaced",
      "7 agent/registered",
      "8 agent/registered",
      "9 lock/granted",
      "10 lock/released:unregistered",
      "11 agent/unregistered",
      "12 agent/crashed",
      "13 agent/crashed",
    ]);
    expect(reg.events.since(11).map((e) => e.event_seq)).toEqual([12, 13]);
  });

  it("a restore tells subscribers the state was replaced, with its positions, before the reap's crashes", () => {
    const { reg, clock } = manualRegistry(0, { agent_timeout_ms: 1_000 });
    reg.tryLock(1, "a");
    reg.recordVersion({ agentId: 1, path: "a" });
    const saved = reg.snapshot();
    reg.releaseLock(1, "a");
    reg.tryLock(2, "a");
    const w = outcomes();
    reg.acquire({ agentId: 3, paths: ["a"], waitMs: 100_000 }, w.done);
    const seen: RegistryEvent[] = [];
    reg.events.subscribe((event) => seen.push(event));
    clock.now = 500;
    reg.restore(saved);
    expect(w.seen).toEqual([{ kind: "agent_gone", why: "restored" }]);
    expect(seen.map((event) => event.type)).toEqual(["registry/restored"]);
    expect(seen[0]).toEqual({
      type: "registry/restored",
      agents: 1,
      locks: 1,
      current_seq: 1,
      next_id: 2,
      next_fence: 3,
      event_seq: expect.any(Number),
      at_ms: 500,
    });
    clock.now = 5_000;
    reg.restore(saved);
    expect(seen.map((event) => event.type)).toEqual([
      "registry/restored",
      "registry/restored",
      "lock/released",
      "agent/crashed",
    ]);
    expect(seen.slice(1).map((event) => event.at_ms)).toEqual([5_000, 5_000, 5_000]);
  });

  it("keeps the last 10,000 for catching up", () => {
    const { reg } = manualRegistry();
    for (let i = 0; i < 6_000; i++) {
      reg.tryLock(1, "f");
      reg.releaseLock(1, "f");
    }
    const kept = reg.events.since(0);
    expect(kept).toHaveLength(10_000);
    expect(kept[0]?.event_seq).toBe(2_002);
    expect(kept.at(-1)?.event_seq).toBe(12_001);
    expect(reg.events.oldestSeq).toBe(2_002);
  });
});

describe("a queued downgrade", () => {
  it("unblocks an earlier shared waiter in the same operation", () => {
    const { reg } = manualRegistry();
    reg.tryLock(1, "f");
    reg.acquire({ agentId: 2, paths: ["g"] });
    const reader = outcomes();
    const downgrade = outcomes();
    reg.acquire({ agentId: 3, paths: ["f"], mode: "shared", waitMs: 1_000 }, reader.done);
    reg.acquire({ agentId: 1, paths: ["f", "g"], mode: "shared", waitMs: 1_000 }, downgrade.done);
    expect(reader.seen).toEqual([]);
    reg.releaseLock(2, "g");
    expect(downgrade.seen[0]?.kind).toBe("granted");
    expect(reader.seen[0]?.kind).toBe("granted");
  });
});

describe("conflicts", () => {
  it("lists a directory lock once however many requested paths it covers", () => {
    const { reg } = manualRegistry();
    reg.acquire({ agentId: 1, paths: ["src"] });
    expect(reg.lockCheck(2, ["src/a.rs", "src/b.rs", "src/c/d.rs"])).toEqual([
      { path: "src", holder: 1, mode: "exclusive", expires_at_ms: 30_000, queued: false },
    ]);
  });
});
