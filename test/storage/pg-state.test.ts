// The store layer of PostgreSQL state against an in-memory log with the
// same ordering contract (test/support/fake-pg-log.ts): several sidecars'
// replicas stay one registry, faults answer store_unavailable and change
// nothing, an unknown commit outcome is learned from the log.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { DEFAULT_LIMITS, type Registry } from "../../src/core/registry.js";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";
import { type PgState, type PgStateOptions, openPgState } from "../../src/storage/postgres/pg-state.js";
import { FakeDatabase } from "../support/fake-pg-log.js";

async function sidecar(db: FakeDatabase, options: Partial<PgStateOptions> = {}): Promise<PgState> {
  return openPgState({
    url: "postgres://fake",
    clock: db.kind,
    registry: { now: () => 0, crashLockDelayMs: 0, limits: DEFAULT_LIMITS },
    keepAgents: false,
    log: () => {},
    onFatal: (error) => {
      throw error;
    },
    openLog: async () => db.open(),
    ...options,
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("PostgreSQL state: one registry for every sidecar", () => {
  it("a change made through one sidecar is seen by a read through another", async () => {
    const db = new FakeDatabase();
    const [a, b] = [await sidecar(db), await sidecar(db)];
    const id = (await a.store.register("alice")) as number;
    expect(await a.store.tryLock(id, "src/x.rs")).toMatchObject({ locked: true });
    expect(await b.store.lockHolder("src/x.rs")).toBe(id);
  });

  it("concurrent tries of one path from three sidecars: exactly one is granted, everywhere the same", async () => {
    const db = new FakeDatabase();
    const sidecars = [await sidecar(db), await sidecar(db), await sidecar(db)];
    const ids = await Promise.all(sidecars.map((s, k) => s.store.registerWithId(k + 1, `agent ${k}`)));
    const results = await Promise.all(sidecars.map((s, k) => s.store.tryLock(ids[k] as number, "src/shared.rs")));
    expect(results.filter((r) => (r as { locked: boolean }).locked)).toHaveLength(1);
    const holders = await Promise.all(sidecars.map((s) => s.store.lockHolder("src/shared.rs")));
    expect(new Set(holders).size).toBe(1);
    expect(db.rows.map((row) => row.seq)).toEqual(db.rows.map((_, k) => k + 1));
  });

  it("a wait on one sidecar is granted when another releases", async () => {
    const db = new FakeDatabase();
    const [a, b] = [await sidecar(db), await sidecar(db)];
    await a.store.registerWithId(1, "a");
    await b.store.registerWithId(2, "b");
    await a.store.tryLock(1, "src/x.rs");
    let outcome: WaitOutcome<AcquireResult> | undefined;
    const first = await b.store.acquire({ agentId: 2, paths: ["src/x.rs"], waitMs: 60_000 }, (o) => (outcome = o));
    expect(first).toHaveProperty("waiting");
    await a.store.releaseLock(1, "src/x.rs");
    await settle();
    expect(outcome).toMatchObject({ kind: "granted", result: { granted: true } });
    expect(await a.store.lockHolder("src/x.rs")).toBe(2);
  });

  it("events reach a subscriber of another sidecar, numbered alike everywhere", async () => {
    const db = new FakeDatabase();
    const [a, b] = [await sidecar(db), await sidecar(db)];
    const seen: string[] = [];
    b.view.events.subscribe((event) => seen.push(event.type));
    await a.store.registerWithId(1, "a");
    await a.store.tryLock(1, "src/x.rs");
    await settle();
    expect(seen).toContain("lock/granted");
    expect(b.view.events.latestSeq).toBe(a.view.events.latestSeq);
  });

  it("every replica ends in the same state after interleaved changes from three sidecars", async () => {
    const db = new FakeDatabase();
    const sidecars = [await sidecar(db), await sidecar(db), await sidecar(db)];
    await Promise.all(sidecars.map((s, k) => s.store.registerWithId(k + 1, `agent ${k}`)));
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const k = i % 3;
      const s = sidecars[k] as PgState;
      const path = `src/f${i % 5}.rs`;
      work.push(Promise.resolve(i % 2 === 0 ? s.store.tryLock(k + 1, path) : s.store.releaseLock(k + 1, path)));
      if (i % 7 === 0) db.clock += 10;
    }
    await Promise.all(work);
    for (const s of sidecars) await s.store.currentSeq();
    const snapshots = sidecars.map((s) => JSON.stringify(s.view.snapshot()));
    expect(new Set(snapshots).size).toBe(1);
  });
});

describe("PostgreSQL state: process options come from the log only", () => {
  it("sidecars started with other limits and lock-delay agree on the last one's: replicas never differ", async () => {
    const db = new FakeDatabase();
    const limits = (n: number) => ({ ...DEFAULT_LIMITS, maxLocksPerAgent: n });
    const a = await sidecar(db, { registry: { now: () => 0, crashLockDelayMs: 2_000, limits: limits(1) } });
    const b = await sidecar(db, { registry: { now: () => 0, crashLockDelayMs: 0, limits: limits(5) } });
    await a.store.currentSeq();
    const options = (s: PgState) => JSON.stringify((s.view as unknown as Registry).processOptions());
    expect(options(a)).toBe(options(b));
    expect((b.view as unknown as Registry).processOptions()).toMatchObject({ crashLockDelayMs: 0 });
  });
});

describe("PostgreSQL state: faults", () => {
  it("a call that never reached the database answers store_unavailable and changes nothing", async () => {
    const db = new FakeDatabase();
    const a = await sidecar(db);
    db.failNext("not_sent");
    await expect(a.store.register("x")).rejects.toMatchObject({ kind: "store_unavailable" });
    expect(db.rows).toHaveLength(0);
    expect(await a.store.listAgents()).toEqual([]);
  });

  it("a commit whose answer was lost is learned from the log and answered as made", async () => {
    const db = new FakeDatabase();
    const a = await sidecar(db);
    await a.store.registerWithId(1, "a");
    db.failNext("lost_after_commit");
    expect(await a.store.tryLock(1, "src/x.rs")).toMatchObject({ locked: true });
    expect(await a.store.lockHolder("src/x.rs")).toBe(1);
  });

  it("a call lost before its commit answers store_unavailable; the state has no trace of it", async () => {
    const db = new FakeDatabase();
    const a = await sidecar(db);
    await a.store.registerWithId(1, "a");
    db.failNext("lost_before_commit");
    await expect(a.store.tryLock(1, "src/x.rs")).rejects.toMatchObject({ kind: "store_unavailable" });
    expect(await a.store.lockHolder("src/x.rs")).toBeNull();
  });

  it("while the connection is down calls fail at once; once it is back the sidecar serves, caught up", async () => {
    const db = new FakeDatabase();
    const [a, b] = [await sidecar(db), await sidecar(db)];
    await b.store.registerWithId(2, "b");
    const aLog = db;
    aLog.setDown(true);
    await expect(a.store.lockHolder("src/x.rs")).rejects.toBeInstanceOf(DomainError);
    aLog.setDown(false);
    await b.store.tryLock(2, "src/x.rs");
    expect(await a.store.lockHolder("src/x.rs")).toBe(2);
  });
});

describe("PostgreSQL state: time, compaction, leaving", () => {
  it("with a manual clock, clock_set through one sidecar moves every sidecar's time", async () => {
    const db = new FakeDatabase("manual");
    const [a, b] = [await sidecar(db), await sidecar(db)];
    await a.store.registerWithId(1, "a");
    await a.store.tryLock(1, "src/x.rs", 1_000);
    a.clock.set(5_000);
    await a.store.tick();
    expect(await b.store.lockHolder("src/x.rs")).toBeNull();
    expect(b.clock.now()).toBe(5_000);
    expect(() => b.clock.set(4_000)).toThrow(/backwards|before/);
  });

  it("a new sidecar starts from the newest snapshot row and the entries after it, in the same state", async () => {
    const db = new FakeDatabase();
    const a = await sidecar(db, { compactEvery: 10 });
    await a.store.registerWithId(1, "a");
    for (let i = 0; i < 25; i++) await a.store.tryLock(1, `src/f${i}.rs`);
    await settle();
    expect(db.snapshots.length).toBeGreaterThan(0);
    expect(db.rows[0]?.seq).toBeGreaterThan(1);
    const b = await sidecar(db);
    expect(b.recovered.snapshotSeq).not.toBeNull();
    expect(JSON.stringify(b.view.snapshot())).toBe(JSON.stringify(a.view.snapshot()));
  });

  it("a sidecar that closes crashes its live agents, freeing their locks for the others", async () => {
    const db = new FakeDatabase();
    const [a, b] = [await sidecar(db), await sidecar(db)];
    const id = (await a.store.register("a")) as number;
    await a.store.tryLock(id, "src/x.rs");
    await a.close();
    expect(await b.store.agentState(id)).toBe("crashed");
    expect(await b.store.lockHolder("src/x.rs")).toBeNull();
  });

  it("with keepAgents, a sidecar that closes leaves its agents live", async () => {
    const db = new FakeDatabase();
    const a = await sidecar(db, { keepAgents: true });
    const b = await sidecar(db);
    await a.store.registerWithId(1, "a");
    await a.close();
    expect(await b.store.agentState(1)).toBe("active");
  });
});
