// README, Semantics: "Every operation validates all its input before it
// touches anything: bad input throws and changes nothing." Random histories
// of good calls (building agents, locks, waits, crashes, edits) interleaved
// with calls whose input is bad somewhere, often after good parts (a bad
// id after good ones, a bad path after a good one, a bad TTL with good
// paths): every call that throws leaves the whole state as it was.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError, InvalidInputError } from "../../src/core/errors.js";
import { Registry } from "../../src/core/registry.js";

interface Call {
  label: string;
  run(reg: Registry, clock: { now: number }): unknown;
}

const call = (label: string, run: (reg: Registry, clock: { now: number }) => unknown): Call => ({ label, run });

const MAX = Number.MAX_SAFE_INTEGER;
const id = fc.integer({ min: 1, max: 4 });
const badId = fc.constantFrom<unknown>(0, -1, 1.5, Number.NaN, "1", null, MAX + 1, Number.POSITIVE_INFINITY);
const path = fc.constantFrom("a", "a/b", "b", "src/x.rs", "__proto__");
const badPath = fc.constantFrom<unknown>("", "/abs", "../x", ".", "a\0b", "C:/x", 42, null);
const badTtl = fc.constantFrom<unknown>(0, -5, 1.5, "10", MAX, Number.NaN);
const badWait = fc.constantFrom<unknown>(-1, 1.5, "5", MAX);
const badMode = fc.constantFrom<unknown>("read", "", 1);
const badHash = fc.constantFrom<unknown>("x", -1, 2 ** 64, "18446744073709551616", 1.5);

/**
 * Calls that build state; some of them fail for good reasons (quota, stale fence), which must change nothing either.
 */
const good: fc.Arbitrary<Call> = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }).map((ms) => call(`advance ${ms}`, (_reg, clock) => (clock.now += ms))),
  id.map((agent) => call(`heartbeat(${agent})`, (reg) => reg.heartbeat(agent))),
  fc
    .tuple(id, path, fc.option(fc.integer({ min: 1, max: 30_000 }), { nil: undefined }))
    .map(([agent, p, ttl]) => call(`tryLock(${agent}, ${p}, ${ttl})`, (reg) => reg.tryLock(agent, p, ttl))),
  fc
    .tuple(
      id,
      fc.uniqueArray(path, { minLength: 1, maxLength: 3 }),
      fc.constantFrom("exclusive" as const, "shared" as const),
      fc.constantFrom(0, 500, 60_000),
    )
    .map(([agent, paths, mode, waitMs]) =>
      call(`acquire(${agent}, ${paths}, ${mode}, wait ${waitMs})`, (reg) =>
        reg.acquire({ agentId: agent, paths, mode, waitMs }, () => {}),
      ),
    ),
  fc
    .tuple(fc.integer({ min: 0, max: 4 }), path, fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }))
    .map(([agent, p, fence]) =>
      call(`recordVersion(${agent}, ${p}, fence ${fence})`, (reg) =>
        reg.recordVersion({ agentId: agent, path: p, fence }),
      ),
    ),
  fc.uniqueArray(id, { maxLength: 2 }).map((ids) => call(`crashAgents(${ids})`, (reg) => reg.crashAgents(ids))),
  id.map((agent) => call(`unregister(${agent})`, (reg) => reg.unregister(agent))),
);

/** Calls with bad input somewhere, often after good parts. */
const bad: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(fc.array(id, { maxLength: 3 }), badId, fc.array(id, { maxLength: 2 })).map(([before, wrong, after]) => {
    const ids = [...before, wrong, ...after] as number[];
    return call(`crashAgents(${JSON.stringify(ids)})`, (reg) => reg.crashAgents(ids));
  }),
  fc
    .tuple(fc.array(id, { maxLength: 3 }), badId)
    .map(([before, wrong]) =>
      call(`loadCrashedSinceReap(${before}, ${String(wrong)})`, (reg) =>
        reg.loadCrashedSinceReap([...before, wrong] as number[]),
      ),
    ),
  fc
    .tuple(badId, path)
    .map(([wrong, p]) => call(`tryLock(${String(wrong)}, ${p})`, (reg) => reg.tryLock(wrong as number, p))),
  fc
    .tuple(id, badPath)
    .map(([agent, p]) => call(`tryLock(${agent}, ${String(p)})`, (reg) => reg.tryLock(agent, p as string))),
  fc
    .tuple(id, path, badTtl)
    .map(([agent, p, ttl]) =>
      call(`tryLock(${agent}, ${p}, ttl ${String(ttl)})`, (reg) => reg.tryLock(agent, p, ttl as number)),
    ),
  fc
    .tuple(id, fc.uniqueArray(path, { minLength: 1, maxLength: 2 }), badPath)
    .map(([agent, paths, p]) =>
      call(`acquire(${agent}, ${paths} + ${String(p)})`, (reg) =>
        reg.acquire({ agentId: agent, paths: [...paths, p as string], waitMs: 1_000 }, () => {}),
      ),
    ),
  fc
    .tuple(
      id,
      fc.uniqueArray(path, { minLength: 1, maxLength: 2 }),
      fc.oneof(
        badTtl.map((ttl) => ({ ttlMs: ttl })),
        badWait.map((wait) => ({ waitMs: wait })),
        badMode.map((mode) => ({ mode })),
      ),
    )
    .map(([agent, paths, wrong]) =>
      call(`acquire(${agent}, ${paths}, ${JSON.stringify(wrong)})`, (reg) =>
        reg.acquire({ agentId: agent, paths, ...(wrong as object) }, () => {}),
      ),
    ),
  fc
    .tuple(
      id,
      fc.constantFrom<unknown>(
        [],
        "a",
        Array.from({ length: 257 }, (_, i) => `p${i}`),
      ),
    )
    .map(([agent, paths]) =>
      call(`acquire(${agent}, bad list)`, (reg) => reg.acquire({ agentId: agent, paths: paths as string[] })),
    ),
  fc
    .tuple(id, fc.uniqueArray(path, { minLength: 1, maxLength: 2 }), badPath)
    .map(([agent, paths, p]) =>
      call(`renew(${agent}, ${paths} + ${String(p)})`, (reg) => reg.renew(agent, [...paths, p as string])),
    ),
  fc
    .tuple(id, badTtl)
    .map(([agent, ttl]) =>
      call(`renew(${agent}, ttl ${String(ttl)})`, (reg) => reg.renew(agent, undefined, ttl as number)),
    ),
  fc
    .tuple(
      id,
      path,
      fc.oneof(
        badHash.map((hash) => ({ hash })),
        fc.constantFrom<unknown>(-1, 1.5).map((size) => ({ size })),
        fc.constantFrom<unknown>("rename", 3).map((op) => ({ op })),
        fc.constantFrom<unknown>(0, -2, 1.5).map((fence) => ({ fence })),
      ),
    )
    .map(([agent, p, wrong]) =>
      call(`recordVersion(${agent}, ${p}, ${JSON.stringify(wrong)})`, (reg) =>
        reg.recordVersion({ agentId: agent, path: p, ...(wrong as object) }),
      ),
    ),
  fc
    .tuple(badPath)
    .map(([p]) =>
      call(`recordVersion(1, ${String(p)})`, (reg) => reg.recordVersion({ agentId: 1, path: p as string })),
    ),
  fc
    .tuple(badId, fc.string({ maxLength: 3 }))
    .map(([wrong, name]) =>
      call(`registerWithId(${String(wrong)})`, (reg) => reg.registerWithId(wrong as number, name)),
    ),
  fc
    .constantFrom<unknown>(5, null, {})
    .map((name) => call(`register(${String(name)})`, (reg) => reg.register(name as string))),
  badId.map((wrong) => call(`heartbeat(${String(wrong)})`, (reg) => reg.heartbeat(wrong as number))),
  badId.map((wrong) => call(`unregister(${String(wrong)})`, (reg) => reg.unregister(wrong as number))),
  badId.map((wrong) => call(`noteEdit(${String(wrong)})`, (reg) => reg.noteEdit(wrong as number))),
  badId.map((wrong) => call(`releaseAll(${String(wrong)})`, (reg) => reg.releaseAll(wrong as number))),
  fc
    .tuple(id, badPath)
    .map(([agent, p]) => call(`releaseLock(${agent}, ${String(p)})`, (reg) => reg.releaseLock(agent, p as string))),
  fc
    .tuple(path, fc.constantFrom<unknown>(5, {}, null))
    .map(([p, note]) => call(`forceRelease(${p}, ${String(note)})`, (reg) => reg.forceRelease(p, note as string))),
  badPath.map((p) => call(`forceRelease(${String(p)})`, (reg) => reg.forceRelease(p as string))),
  fc
    .tuple(fc.uniqueArray(path, { minLength: 1, maxLength: 2 }), badMode)
    .map(([paths, mode]) =>
      call(`lockCheck(${paths}, ${String(mode)})`, (reg) => reg.lockCheck(1, paths, mode as "shared")),
    ),
  fc
    .constantFrom<unknown>(-1, 1.5, "0")
    .map((seq) => call(`changesSince(${String(seq)})`, (reg) => reg.changesSince(seq as number))),
  fc
    .constantFrom<unknown>(0, -1, 1.5)
    .map((limit) => call(`changesSince(0, ${String(limit)})`, (reg) => reg.changesSince(0, limit as number))),
  fc
    .tuple(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom<unknown>(0, -1, 1.5, "9"))
    .map(([good, wrong]) =>
      call(`setConfig(ttl ${good}, timeout ${String(wrong)})`, (reg) =>
        reg.setConfig({ default_lock_ttl_ms: good, agent_timeout_ms: wrong as number }),
      ),
    ),
  fc
    .constantFrom<unknown>(-1, 1.5)
    .map((delay) =>
      call(`setProcessOptions(delay ${String(delay)})`, (reg) =>
        reg.setProcessOptions({ ...reg.processOptions(), crashLockDelayMs: delay as number }),
      ),
    ),
  fc
    .constantFrom<unknown>(0, 1.5, 99)
    .map((rules) =>
      call(`setProcessOptions(rules ${String(rules)})`, (reg) =>
        reg.setProcessOptions({ ...reg.processOptions(), rules: rules as number }),
      ),
    ),
  fc
    .constantFrom<unknown>(
      {},
      { format_version: 2 },
      { agents: { agents: [{ id: 0 }] } },
      {
        agents: {
          agents: [
            { id: 1, name: "a" },
            { id: 1, name: "b" },
          ],
        },
      },
    )
    .map((snapshot) => call(`restore(${JSON.stringify(snapshot)})`, (reg) => reg.restore(snapshot))),
);

/** Everything a call could change: the snapshot and what the registry keeps beside it. */
function stateOf(reg: Registry) {
  return {
    snapshot: reg.snapshot(),
    waits: reg.saveWaits(),
    delayed: reg.saveDelayed(),
    crashedSinceReap: reg.saveCrashedSinceReap(),
    latestEvent: reg.events.latestSeq,
    options: reg.processOptions(),
    config: reg.config(),
    stats: reg.stats(),
  };
}

describe("bad input", () => {
  it(
    "Every operation validates all its input before it touches anything: " + "bad input throws and changes nothing.",
    () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(good, bad), { minLength: 1, maxLength: 80 }), (calls) => {
          const clock = { now: 1_000 };
          const reg = new Registry({
            now: () => clock.now,
            crashLockDelayMs: 300,
            limits: { maxAgents: 3, maxLocksPerAgent: 3 },
          });
          for (const each of calls) {
            const before = stateOf(reg);
            let thrown: unknown;
            try {
              each.run(reg, clock);
            } catch (error) {
              thrown = error;
            }
            if (thrown === undefined) continue;
            if (!(thrown instanceof InvalidInputError || thrown instanceof DomainError)) throw thrown;
            // A deadlock refusal changes nothing but tells subscribers: one lock/deadlock event.
            const told = thrown instanceof DomainError && thrown.kind === "deadlock";
            if (told)
              expect(reg.events.since(before.latestEvent).map((event) => event.type)).toEqual(["lock/deadlock"]);
            const expected = told
              ? {
                  ...before,
                  latestEvent: before.latestEvent + 1,
                  stats: { ...before.stats, locks: { ...before.stats.locks, refused: before.stats.locks.refused + 1 } },
                }
              : before;
            expect(stateOf(reg), `${each.label} threw ${(thrown as Error).message} and changed the state`).toEqual(
              expected,
            );
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 15) * 10 },
      );
    },
  );

  it("crashAgents([1, 0]) crashes nobody: every id is checked first", () => {
    const reg = new Registry({ now: () => 0 });
    reg.tryLock(1, "a");
    expect(() => reg.crashAgents([1, 0])).toThrow(InvalidInputError);
    expect(reg.agentState(1)).toBe("active");
    expect(reg.lockHolder("a")).toBe(1);
    expect(() => reg.loadCrashedSinceReap([1, -1])).toThrow(InvalidInputError);
    expect(reg.reap()).toEqual([]);
  });
});
