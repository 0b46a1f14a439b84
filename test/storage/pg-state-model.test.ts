// Property: whatever three sidecars do at once, with round trips lost
// before or after their commit, (1) every call answered with anything but
// store_unavailable is in the log exactly once and every call answered
// store_unavailable is not, and (2) every replica, caught up, holds what a
// fresh registry replaying the log holds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { DEFAULT_LIMITS, type Registry } from "../../src/core/registry.js";
import { type PgState, openPgState } from "../../src/storage/postgres/pg-state.js";
import { Replica } from "../../src/storage/postgres/replica.js";
import { type Fault, FakeDatabase } from "../support/fake-pg-log.js";

type Step =
  | { kind: "lock"; sidecar: number; agent: number; path: number; ttl: number }
  | { kind: "release"; sidecar: number; agent: number; path: number }
  | { kind: "wait"; sidecar: number; agent: number; path: number }
  | { kind: "register"; sidecar: number; agent: number }
  | { kind: "read"; sidecar: number; path: number }
  | { kind: "time"; ms: number }
  | { kind: "fault"; fault: Fault }
  | { kind: "settle" };

const sidecarIndex = fc.integer({ min: 0, max: 2 });
const agent = fc.integer({ min: 1, max: 4 });
const path = fc.integer({ min: 0, max: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("lock"), sidecar: sidecarIndex, agent, path, ttl: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant("release"), sidecar: sidecarIndex, agent, path }),
  fc.record({ kind: fc.constant("wait"), sidecar: sidecarIndex, agent, path }),
  fc.record({ kind: fc.constant("register"), sidecar: sidecarIndex, agent }),
  fc.record({ kind: fc.constant("read"), sidecar: sidecarIndex, path }),
  // A negative step stands for an append whose transaction read the database's clock before a read that another
  // sidecar answered meanwhile: its entry carries an earlier time than that read saw.
  fc.record({ kind: fc.constant("time"), ms: fc.integer({ min: -20, max: 40 }) }),
  fc.record({
    kind: fc.constant("fault"),
    fault: fc.constantFrom<Fault>("not_sent", "lost_after_commit", "lost_before_commit"),
  }),
  fc.constant<Step>({ kind: "settle" }),
);

const options = { now: () => 0, crashLockDelayMs: 0, limits: DEFAULT_LIMITS };

async function open(db: FakeDatabase): Promise<PgState> {
  return openPgState({
    url: "postgres://fake",
    clock: "system",
    registry: options,
    keepAgents: true,
    log: () => {},
    onFatal: (error) => {
      throw error;
    },
    openLog: async () => db.open(),
  });
}

const p = (n: number) => `src/f${n}.rs`;
const settle = () => new Promise((resolve) => setTimeout(resolve, 2));

describe("PostgreSQL state: model", () => {
  it("answers agree with the log, and every replica is the log replayed", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const db = new FakeDatabase();
        const sidecars = [await open(db), await open(db), await open(db)];
        const calls: { sidecar: number; answer: Promise<"applied" | "unavailable"> }[] = [];
        const track = (sidecar: number, value: unknown) =>
          calls.push({
            sidecar,
            answer: Promise.resolve(value).then(
              () => "applied" as const,
              (error: unknown) =>
                error instanceof DomainError && error.kind === "store_unavailable" ? "unavailable" : "applied",
            ),
          });
        for (const s of steps) {
          if (s.kind === "time") db.clock += s.ms;
          else if (s.kind === "fault") db.failNext(s.fault);
          else if (s.kind === "settle") await settle();
          else {
            const store = (sidecars[s.sidecar] as PgState).store;
            if (s.kind === "lock") track(s.sidecar, store.tryLock(s.agent, p(s.path), s.ttl));
            else if (s.kind === "release") track(s.sidecar, store.releaseLock(s.agent, p(s.path)));
            else if (s.kind === "register") track(s.sidecar, store.registerWithId(s.agent, `a${s.agent}`));
            else if (s.kind === "read") Promise.resolve(store.lockHolder(p(s.path))).catch(() => {});
            else {
              const acquired = store.acquire({ agentId: s.agent, paths: [p(s.path)], waitMs: 30 }, () => {});
              track(s.sidecar, acquired);
            }
          }
        }
        const answers = await Promise.race([
          Promise.all(calls.map((call) => call.answer)),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error("calls never answered")), 2000)),
        ]);
        for (let k = 0; k < sidecars.length; k++) {
          const applied = answers.filter((answer, i) => answer === "applied" && calls[i]?.sidecar === k).length;
          const rows = db.rows.filter((row) => row.sidecar === k + 1 && row.op !== "tick").length;
          expect(rows).toBe(applied);
        }
        while (db.takeFault() !== undefined);
        // A last tick puts every replica at the log's time, where the replay ends too.
        await (sidecars[0] as PgState).store.tick();
        for (const s of sidecars) await s.store.currentSeq();
        const replayed = new Replica(undefined, options);
        for (const row of db.rows) replayed.replay(row);
        const expected = JSON.stringify(replayed.at(replayed.time, () => replayed.registry.snapshot()));
        for (const s of sidecars) {
          const view = s.view as Registry;
          expect(JSON.stringify(view.snapshot())).toBe(expected);
        }
        for (const s of sidecars) await s.close();
      }),
      { numRuns: 150, timeout: 5000 },
    );
  });
});
