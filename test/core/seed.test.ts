// The tests of harn-hostlib 0.7.50 agents.rs, ported one by one.
import { describe, expect, it } from "vitest";
import { manualRegistry } from "../support/manual-registry.js";

describe("seed tests (agents.rs)", () => {
  it("register_then_heartbeat_keeps_agent_active", () => {
    const { reg, clock } = manualRegistry(1_000);
    const id = reg.register("editor");
    expect(reg.getAgent(id)?.state).toBe("active");
    clock.now = 5_000;
    reg.heartbeat(id);
    const info = reg.getAgent(id);
    expect(info?.last_seen_ms).toBe(5_000);
    expect(info?.state).toBe("active");
  });

  it("reap_marks_silent_agents_crashed_and_drops_locks", () => {
    const { reg, clock } = manualRegistry(0);
    const id = reg.register("editor");
    expect(reg.tryLock(id, "src/main.rs").locked).toBe(true);
    clock.now = 60_000;
    expect(reg.reap()).toEqual([id]);
    const info = reg.getAgent(id);
    expect(info?.state).toBe("crashed");
    expect(info?.locks).toEqual([]);
    expect(reg.lockHolder("src/main.rs")).toBeNull();
  });

  it("try_lock_blocks_other_agents_until_expiry", () => {
    const { reg, clock } = manualRegistry(0);
    const a = reg.register("a");
    const b = reg.register("b");
    expect(reg.tryLock(a, "f.rs", 1_000).locked).toBe(true);
    clock.now = 100;
    expect(reg.tryLock(b, "f.rs", 1_000)).toEqual({ locked: false, holder: a });
    clock.now = 5_000;
    expect(reg.tryLock(b, "f.rs", 1_000).locked).toBe(true);
    expect(reg.lockHolder("f.rs")).toBe(b);
  });

  it("release_lock_lets_others_acquire_immediately", () => {
    const { reg, clock } = manualRegistry(0);
    const a = reg.register("a");
    const b = reg.register("b");
    reg.tryLock(a, "x");
    expect(reg.releaseLock(a, "x")).toBe(true);
    clock.now = 100;
    expect(reg.tryLock(b, "x").locked).toBe(true);
  });

  it("heartbeat_resurrects_a_crashed_agent", () => {
    const { reg, clock } = manualRegistry(0);
    const id = reg.register("a");
    clock.now = 60_000;
    reg.reap();
    expect(reg.getAgent(id)?.state).toBe("crashed");
    clock.now = 70_000;
    reg.heartbeat(id);
    expect(reg.getAgent(id)?.state).toBe("active");
  });

  it("snapshot_round_trips_through_serialized_form", () => {
    const { reg } = manualRegistry(100);
    const id = reg.register("editor");
    reg.tryLock(id, "src/main.rs", 1_000);
    const snap = reg.snapshot();
    const { reg: restored } = manualRegistry(100);
    restored.restore(snap);
    expect(restored.getAgent(id)?.name).toBe("editor");
    expect(restored.getAgent(id)?.locks).toEqual([{ path: "src/main.rs", expires_at_ms: 1_100 }]);
  });
});

describe("seed semantics kept", () => {
  it("assigns ids from 1 and register_with_id bumps next_id past the given id", () => {
    const { reg } = manualRegistry(0);
    expect(reg.register("a")).toBe(1);
    expect(reg.registerWithId(10, "b")).toBe(10);
    expect(reg.register("c")).toBe(11);
    expect(reg.registerWithId(5, "d")).toBe(5);
    expect(reg.register("e")).toBe(12);
  });

  it("register_with_id on a known id starts the record afresh, dropping its locks and edits", () => {
    const { reg, clock } = manualRegistry(0);
    reg.registerWithId(3, "old");
    reg.tryLock(3, "a.rs");
    reg.noteEdit(3);
    clock.now = 10;
    reg.registerWithId(3, "new");
    expect(reg.getAgent(3)).toEqual({
      id: 3,
      name: "new",
      state: "active",
      last_seen_ms: 10,
      edit_count: 0,
      locks: [],
    });
    expect(reg.lockHolder("a.rs")).toBeNull();
  });

  it("heartbeat auto-registers an unknown id as agent-<id>", () => {
    const { reg } = manualRegistry(7);
    reg.heartbeat(42);
    expect(reg.getAgent(42)).toMatchObject({ name: "agent-42", state: "active", last_seen_ms: 7 });
    expect(reg.register("next")).toBe(43);
  });

  it("try_lock auto-registers an unknown agent, but only when granted", () => {
    const { reg } = manualRegistry(0);
    expect(reg.tryLock(9, "a").locked).toBe(true);
    expect(reg.getAgent(9)?.name).toBe("agent-9");
    expect(reg.tryLock(12, "a")).toEqual({ locked: false, holder: 9 });
    expect(reg.getAgent(12)).toBeNull();
  });

  it("try_lock is re-entrant for the holder and refreshes the expiry", () => {
    const { reg, clock } = manualRegistry(0);
    const a = reg.register("a");
    reg.tryLock(a, "f", 1_000);
    clock.now = 900;
    expect(reg.tryLock(a, "f", 1_000)).toEqual({ locked: true, holder: a });
    expect(reg.listLocks()).toEqual([{ path: "f", agent_id: a, expires_at_ms: 1_900 }]);
    clock.now = 1_500;
    expect(reg.lockHolder("f")).toBe(a);
  });

  it("a lock is live while now < expiry", () => {
    const { reg, clock } = manualRegistry(0);
    reg.tryLock(1, "f", 100);
    clock.now = 99;
    expect(reg.lockHolder("f")).toBe(1);
    clock.now = 100;
    expect(reg.lockHolder("f")).toBeNull();
  });

  it("an agent crashes only when silent for more than agent_timeout_ms", () => {
    const { reg, clock } = manualRegistry(0);
    const id = reg.register("a");
    clock.now = 45_000;
    expect(reg.getAgent(id)?.state).toBe("active");
    clock.now = 45_001;
    expect(reg.getAgent(id)?.state).toBe("crashed");
  });

  it("unregister drops the record and its locks, and is a no-op for unknown ids", () => {
    const { reg } = manualRegistry(0);
    const a = reg.register("a");
    reg.tryLock(a, "f");
    expect(reg.unregister(a)).toBe(true);
    expect(reg.getAgent(a)).toBeNull();
    expect(reg.lockHolder("f")).toBeNull();
    expect(reg.unregister(a)).toBe(false);
    expect(reg.unregister(999)).toBe(false);
  });

  it("note_edit counts edits and refreshes last_seen; unknown ids are ignored", () => {
    const { reg, clock } = manualRegistry(0);
    const a = reg.register("a");
    clock.now = 50;
    reg.noteEdit(a);
    reg.noteEdit(a);
    expect(reg.getAgent(a)).toMatchObject({ edit_count: 2, last_seen_ms: 50 });
    reg.noteEdit(77);
    expect(reg.getAgent(77)).toBeNull();
  });

  it("release by a non-holder is a no-op", () => {
    const { reg } = manualRegistry(0);
    reg.tryLock(1, "f");
    expect(reg.releaseLock(2, "f")).toBe(false);
    expect(reg.releaseLock(1, "other")).toBe(false);
    expect(reg.lockHolder("f")).toBe(1);
  });

  it("config defaults are 30 s lock TTL and 45 s agent timeout, both settable", () => {
    const { reg, clock } = manualRegistry(0);
    expect(reg.config()).toEqual({ default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 });
    reg.setConfig({ default_lock_ttl_ms: 10, agent_timeout_ms: 20 });
    reg.tryLock(1, "f");
    expect(reg.listLocks()[0]?.expires_at_ms).toBe(10);
    clock.now = 21;
    expect(reg.getAgent(1)?.state).toBe("crashed");
  });
});
