// The tests of harn-hostlib 0.7.50 agents.rs, ported one by one, run against
// every store (memory, a state directory, PostgreSQL: store-under-test.ts),
// each call awaited.
import { describe, expect, it } from "vitest";
import { CORE_STORES, storeUnderTest } from "../support/store-under-test.js";

describe.each(CORE_STORES)("%s state", (kind) => {
  /** A store of this kind on a manual clock starting at `startMs`. */
  const open = (startMs = 0) => storeUnderTest(kind, { startMs });

  describe("seed tests (agents.rs)", () => {
    it("register_then_heartbeat_keeps_agent_active", async () => {
      const { reg, setTime } = await open(1_000);
      const id = await reg.register("editor");
      expect((await reg.getAgent(id))?.state).toBe("active");
      await setTime(5_000);
      await reg.heartbeat(id);
      const info = await reg.getAgent(id);
      expect(info?.last_seen_ms).toBe(5_000);
      expect(info?.state).toBe("active");
    });

    it("reap_marks_silent_agents_crashed_and_drops_locks", async () => {
      const { reg, setTime } = await open(0);
      const id = await reg.register("editor");
      expect((await reg.tryLock(id, "src/main.rs")).locked).toBe(true);
      await setTime(60_000);
      expect(await reg.reap()).toEqual([id]);
      const info = await reg.getAgent(id);
      expect(info?.state).toBe("crashed");
      expect(info?.locks).toEqual([]);
      expect(await reg.lockHolder("src/main.rs")).toBeNull();
    });

    it("try_lock_blocks_other_agents_until_expiry", async () => {
      const { reg, setTime } = await open(0);
      const a = await reg.register("a");
      const b = await reg.register("b");
      expect((await reg.tryLock(a, "f.rs", 1_000)).locked).toBe(true);
      await setTime(100);
      expect(await reg.tryLock(b, "f.rs", 1_000)).toEqual({ locked: false, holder: a });
      await setTime(5_000);
      expect((await reg.tryLock(b, "f.rs", 1_000)).locked).toBe(true);
      expect(await reg.lockHolder("f.rs")).toBe(b);
    });

    it("release_lock_lets_others_acquire_immediately", async () => {
      const { reg, setTime } = await open(0);
      const a = await reg.register("a");
      const b = await reg.register("b");
      await reg.tryLock(a, "x");
      expect(await reg.releaseLock(a, "x")).toBe(true);
      await setTime(100);
      expect((await reg.tryLock(b, "x")).locked).toBe(true);
    });

    it("heartbeat_resurrects_a_crashed_agent", async () => {
      const { reg, setTime } = await open(0);
      const id = await reg.register("a");
      await setTime(60_000);
      await reg.reap();
      expect((await reg.getAgent(id))?.state).toBe("crashed");
      await setTime(70_000);
      await reg.heartbeat(id);
      expect((await reg.getAgent(id))?.state).toBe("active");
    });

    it("snapshot_round_trips_through_serialized_form", async () => {
      const { reg } = await open(100);
      const id = await reg.register("editor");
      await reg.tryLock(id, "src/main.rs", 1_000);
      const snap = await reg.snapshot();
      const { reg: restored } = await open(100);
      await restored.restore(snap);
      expect((await restored.getAgent(id))?.name).toBe("editor");
      expect((await restored.getAgent(id))?.locks).toEqual([{ path: "src/main.rs", expires_at_ms: 1_100 }]);
    });
  });

  describe("seed semantics kept", () => {
    it("assigns ids from 1 and register_with_id bumps next_id past the given id", async () => {
      const { reg } = await open(0);
      expect(await reg.register("a")).toBe(1);
      expect(await reg.registerWithId(10, "b")).toBe(10);
      expect(await reg.register("c")).toBe(11);
      expect(await reg.registerWithId(5, "d")).toBe(5);
      expect(await reg.register("e")).toBe(12);
    });

    it("register_with_id on a known id starts the record afresh, dropping its locks and edits", async () => {
      const { reg, setTime } = await open(0);
      await reg.registerWithId(3, "old");
      await reg.tryLock(3, "a.rs");
      await reg.noteEdit(3);
      await setTime(10);
      await reg.registerWithId(3, "new");
      expect(await reg.getAgent(3)).toEqual({
        id: 3,
        name: "new",
        state: "active",
        last_seen_ms: 10,
        edit_count: 0,
        locks: [],
      });
      expect(await reg.lockHolder("a.rs")).toBeNull();
    });

    it("heartbeat auto-registers an unknown id as agent-<id>", async () => {
      const { reg } = await open(7);
      await reg.heartbeat(42);
      expect(await reg.getAgent(42)).toMatchObject({ name: "agent-42", state: "active", last_seen_ms: 7 });
      expect(await reg.register("next")).toBe(43);
    });

    it("try_lock auto-registers an unknown agent, but only when granted", async () => {
      const { reg } = await open(0);
      expect((await reg.tryLock(9, "a")).locked).toBe(true);
      expect((await reg.getAgent(9))?.name).toBe("agent-9");
      expect(await reg.tryLock(12, "a")).toEqual({ locked: false, holder: 9 });
      expect(await reg.getAgent(12)).toBeNull();
    });

    it("try_lock is re-entrant for the holder and refreshes the expiry", async () => {
      const { reg, setTime } = await open(0);
      const a = await reg.register("a");
      await reg.tryLock(a, "f", 1_000);
      await setTime(900);
      expect(await reg.tryLock(a, "f", 1_000)).toEqual({ locked: true, holder: a });
      expect(await reg.listLocks()).toEqual([{ path: "f", agent_id: a, expires_at_ms: 1_900 }]);
      await setTime(1_500);
      expect(await reg.lockHolder("f")).toBe(a);
    });

    it("a lock is live while now < expiry", async () => {
      const { reg, setTime } = await open(0);
      await reg.tryLock(1, "f", 100);
      await setTime(99);
      expect(await reg.lockHolder("f")).toBe(1);
      await setTime(100);
      expect(await reg.lockHolder("f")).toBeNull();
    });

    it("an agent crashes only when silent for more than agent_timeout_ms", async () => {
      const { reg, setTime } = await open(0);
      const id = await reg.register("a");
      await setTime(45_000);
      expect((await reg.getAgent(id))?.state).toBe("active");
      await setTime(45_001);
      expect((await reg.getAgent(id))?.state).toBe("crashed");
    });

    it("unregister drops the record and its locks, and is a no-op for unknown ids", async () => {
      const { reg } = await open(0);
      const a = await reg.register("a");
      await reg.tryLock(a, "f");
      expect(await reg.unregister(a)).toBe(true);
      expect(await reg.getAgent(a)).toBeNull();
      expect(await reg.lockHolder("f")).toBeNull();
      expect(await reg.unregister(a)).toBe(false);
      expect(await reg.unregister(999)).toBe(false);
    });

    it("note_edit counts edits and refreshes last_seen; unknown ids are ignored", async () => {
      const { reg, setTime } = await open(0);
      const a = await reg.register("a");
      await setTime(50);
      await reg.noteEdit(a);
      await reg.noteEdit(a);
      expect(await reg.getAgent(a)).toMatchObject({ edit_count: 2, last_seen_ms: 50 });
      await reg.noteEdit(77);
      expect(await reg.getAgent(77)).toBeNull();
    });

    it("release by a non-holder is a no-op", async () => {
      const { reg } = await open(0);
      await reg.tryLock(1, "f");
      expect(await reg.releaseLock(2, "f")).toBe(false);
      expect(await reg.releaseLock(1, "other")).toBe(false);
      expect(await reg.lockHolder("f")).toBe(1);
    });

    it("config defaults are 30 s lock TTL and 45 s agent timeout, both settable", async () => {
      const { reg, setTime } = await open(0);
      expect(await reg.config()).toEqual({ default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 });
      await reg.setConfig({ default_lock_ttl_ms: 10, agent_timeout_ms: 20 });
      await reg.tryLock(1, "f");
      expect((await reg.listLocks())[0]?.expires_at_ms).toBe(10);
      await setTime(21);
      expect((await reg.getAgent(1))?.state).toBe("crashed");
    });
  });
});
