// Deadlock detection in the core: no false alarms for agents that take
// their paths one at a time in one global order; the wait index against a
// brute-force scan of the queue; what a refusal tells and leaves; locks
// left by the crash lock-delay belong to nobody; saved waits restored into
// a fresh registry keep the rule. (The model-based test, model.test.ts,
// holds every refusal to the reference model's brute-force waits-for graph.)
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LockClaim, claim, conflicts } from "../../src/core/conflict-rule.js";
import { DomainError } from "../../src/core/errors.js";
import type { RegistryEvent } from "../../src/core/events.js";
import { Registry } from "../../src/core/registry.js";
import type { AcquireResult, LockMode, WaitOutcome } from "../../src/core/store.js";
import { ScanMarks, WaitIndex } from "../../src/core/wait-index.js";

const LONG = 1_000_000_000;
const modes = fc.constantFrom<LockMode>("exclusive", "shared");

function registry(options: { crashLockDelayMs?: number; timeout?: number } = {}) {
  const clock = { now: 0 };
  const reg = new Registry({
    now: () => clock.now,
    config: { default_lock_ttl_ms: LONG, agent_timeout_ms: options.timeout ?? LONG },
    crashLockDelayMs: options.crashLockDelayMs,
  });
  return { reg, clock };
}

/** Queue an acquire that must wait; returns its outcomes as they come. */
function waitFor(
  reg: Registry,
  agentId: number,
  paths: string[],
  mode: LockMode = "exclusive",
): WaitOutcome<AcquireResult>[] {
  const outcomes: WaitOutcome<AcquireResult>[] = [];
  const result = reg.acquire({ agentId, paths, mode, waitMs: LONG }, (outcome) => outcomes.push(outcome));
  expect(result).toHaveProperty("waiting");
  return outcomes;
}

/** The error an acquire that would wait throws. */
function refusal(reg: Registry, agentId: number, paths: string[], mode: LockMode = "exclusive"): DomainError {
  try {
    reg.acquire({ agentId, paths, mode, waitMs: LONG }, () => {});
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error("the acquire was not refused");
}

describe("no false alarms", () => {
  // Paths none of which lies inside another (siblings in a directory are
  // fine): taking them one at a time in increasing order, in any mode,
  // every cycle would need a request for a path below one already held.
  const flat = ["a", "b", "c/x", "c/y", "d", "e/f/g"];
  const plan = fc
    .subarray(flat, { minLength: 1 })
    .chain((paths) =>
      fc.tuple(fc.constant(paths), fc.array(modes, { minLength: paths.length, maxLength: paths.length })),
    );
  const agents = fc.array(fc.array(plan, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 });

  it(
    "agents that take their paths one at a time in one global (sorted) order " + "never get deadlock, and all finish",
    () => {
      fc.assert(
        fc.property(agents, fc.array(fc.nat(), { minLength: 1, maxLength: 400 }), (plans, schedule) => {
          const { reg } = registry();
          /** Per agent: which plan and step it is at, and whether its request waits. */
          const state = plans.map(() => ({ plan: 0, step: 0, waiting: false }));
          const stepOf = (agent: number) => {
            const s = state[agent] as (typeof state)[number];
            const [paths, pathModes] = (plans[agent] as [string[], LockMode[]][])[s.plan] as [string[], LockMode[]];
            if (s.step === paths.length) {
              reg.releaseAll(agent + 1);
              s.plan++;
              s.step = 0;
              return;
            }
            const result = reg.acquire(
              { agentId: agent + 1, paths: [paths[s.step] as string], mode: pathModes[s.step], waitMs: LONG },
              (outcome) => {
                expect(outcome.kind).toBe("granted");
                s.waiting = false;
                s.step++;
              },
            );
            if ("waiting" in result) s.waiting = true;
            else s.step++;
          };
          /** Agents that can take a step: not waiting, plans left. */
          const busy = () =>
            state.flatMap((s, agent) => (!s.waiting && s.plan < (plans[agent] as unknown[]).length ? [agent] : []));
          for (const pick of schedule) {
            const ready = busy();
            if (ready.length === 0) break;
            stepOf(ready[pick % ready.length] as number);
          }
          for (let guard = 0; guard < 10_000; guard++) {
            const ready = busy();
            if (ready.length === 0) break;
            stepOf(ready[0] as number);
          }
          expect(
            state.every((s, agent) => s.plan === (plans[agent] as unknown[]).length),
            "every agent finished its plans",
          ).toBe(true);
          expect(reg.stats().waits.waiting).toBe(0);
        }),
        { numRuns: Number(process.env.MODEL_RUNS ?? 200) },
      );
    },
  );

  it("but an atomic acquire of several paths, or a path inside a directory one holds, can close a real cycle", () => {
    const { reg } = registry();
    reg.acquire({ agentId: 1, paths: ["a"] });
    waitFor(reg, 2, ["a", "b"]);
    expect(refusal(reg, 1, ["b"]).data).toEqual({
      cycle: [
        { agent_id: 1, path: "b", waits_for: 2 },
        { agent_id: 2, path: "a", waits_for: 1 },
      ],
    });
    reg.acquire({ agentId: 3, paths: ["d"] });
    waitFor(reg, 4, ["d"]);
    expect(refusal(reg, 3, ["d/f"]).data).toEqual({
      cycle: [
        { agent_id: 3, path: "d/f", waits_for: 4 },
        { agent_id: 4, path: "d", waits_for: 3 },
      ],
    });
  });
});

describe("the wait index", () => {
  const paths = fc.constantFrom("a", "a/b", "a/b/c", "a/c", "b", "ab", "a/b/d");
  const request = fc.record({
    agentId: fc.integer({ min: 1, max: 4 }),
    paths: fc.uniqueArray(paths, { minLength: 1, maxLength: 3 }),
    mode: modes,
  });
  const op = fc.oneof(
    { weight: 3, arbitrary: request.map((r) => ({ kind: "add" as const, ...r })) },
    { weight: 1, arbitrary: fc.nat().map((nth) => ({ kind: "remove" as const, nth })) },
  );
  const query = fc.record({
    agentId: fc.integer({ min: 1, max: 4 }),
    path: paths,
    mode: modes,
    after: fc.nat({ max: 30 }),
    span: fc.option(fc.nat({ max: 30 }), { nil: undefined }),
  });

  it(
    "finds exactly the queued requests in range whose claims conflict, " + "as a brute-force scan of the queue does",
    () => {
      fc.assert(
        fc.property(
          fc.array(op, { maxLength: 40 }),
          fc.array(query, { minLength: 1, maxLength: 10 }),
          (ops, queries) => {
            type Request = { id: number; agentId: number; paths: string[]; mode: LockMode };
            const index = new WaitIndex<Request>();
            let queue: Request[] = [];
            let nextId = 1;
            for (const each of ops) {
              if (each.kind === "add") {
                const added = { id: nextId++, agentId: each.agentId, paths: each.paths, mode: each.mode };
                index.add(added);
                queue.push(added);
              } else if (queue.length > 0) {
                const gone = queue[each.nth % queue.length] as Request;
                index.remove(gone);
                queue = queue.filter((r) => r !== gone);
              }
            }
            for (const q of queries) {
              const range = { after: q.after, before: q.span === undefined ? Infinity : q.after + q.span };
              const wanted: LockClaim = claim(q.agentId, q.path, q.mode);
              const expected = queue
                .filter(
                  (r) =>
                    r.id > range.after &&
                    r.id < range.before &&
                    r.paths.some((p) => conflicts(wanted, claim(r.agentId, p, r.mode))),
                )
                .map((r) => r.id);
              const found = new Set<number>();
              index.forEachConflict(q.agentId, q.path, q.mode, range, (r) => void found.add(r.id));
              expect([...found].sort((x, y) => x - y)).toEqual(expected);
              expect(index.countAt(q.path)).toBe(queue.filter((r) => r.paths.includes(q.path)).length);
              // With the blocked cut: a subset that keeps every request not blocked by two earlier exclusive
              // ones on its path.
              const cut = new Set<number>();
              index.forEachConflict(q.agentId, q.path, q.mode, range, (r) => void cut.add(r.id), { blockedCut: true });
              for (const id of cut) expect(found.has(id)).toBe(true);
              for (const id of found) {
                if (cut.has(id)) continue;
                const r = queue.find((each) => each.id === id) as Request;
                const blocked = r.paths.every((p) => {
                  const ahead = queue.filter(
                    (o) => o.id > range.after && o.id < r.id && o.mode === "exclusive" && o.paths.includes(p),
                  );
                  return (
                    new Set(ahead.map((o) => o.agentId)).size >= 2 || !conflicts(wanted, claim(r.agentId, p, r.mode))
                  );
                });
                expect(blocked, `request ${id} was cut but is not blocked on its path`).toBe(true);
              }
              // With marks, a second look-up for the same range finds nothing new, and the first finds the same.
              if (range.after === 0) {
                const marks = new ScanMarks();
                const first = new Set<number>();
                index.forEachConflict(q.agentId, q.path, q.mode, range, (r) => void first.add(r.id), { marks });
                expect(first).toEqual(found);
                let again = 0;
                index.forEachConflict(q.agentId, q.path, q.mode, range, () => void again++, { marks });
                expect(again).toBe(0);
              }
            }
          },
        ),
        { numRuns: Number(process.env.MODEL_RUNS ?? 200) },
      );
    },
  );
});

describe("a refusal", () => {
  it(
    "throws deadlock with the cycle, tells subscribers, and changes nothing: " +
      "the requester keeps its locks, the others keep waiting",
    () => {
      const { reg } = registry();
      const events: RegistryEvent[] = [];
      reg.events.subscribe((event) => events.push(event));
      reg.acquire({ agentId: 1, paths: ["a"] });
      reg.acquire({ agentId: 2, paths: ["b"] });
      reg.acquire({ agentId: 3, paths: ["c"] });
      const first = waitFor(reg, 1, ["b"]);
      const second = waitFor(reg, 2, ["c"]);
      const before = { snapshot: reg.snapshot(), waits: reg.saveWaits(), stats: reg.stats() };
      const error = refusal(reg, 3, ["x", "a"]);
      const cycle = [
        { agent_id: 3, path: "a", waits_for: 1 },
        { agent_id: 1, path: "b", waits_for: 2 },
        { agent_id: 2, path: "c", waits_for: 3 },
      ];
      expect(error.kind).toBe("deadlock");
      expect(error.data).toEqual({ cycle });
      expect(error.message).toBe(
        'waiting would close a cycle of waits: agent 3 waits for agent 1 on "a", ' +
          'agent 1 waits for agent 2 on "b", agent 2 waits for agent 3 on "c"; refused, nothing changed',
      );
      expect(events.at(-1)).toMatchObject({
        type: "lock/deadlock",
        agent_id: 3,
        paths: ["x", "a"],
        mode: "exclusive",
        cycle,
      });
      expect(reg.snapshot()).toEqual(before.snapshot);
      expect(reg.saveWaits()).toEqual(before.waits);
      expect(reg.stats().locks.refused).toBe(before.stats.locks.refused + 1);
      expect([first, second]).toEqual([[], []]);
      reg.releaseAll(3);
      expect(second).toMatchObject([{ kind: "granted" }]);
    },
  );

  it("costs nothing and refuses nothing when the request does not wait (wait_ms 0 answers the conflicts)", () => {
    const { reg } = registry();
    reg.acquire({ agentId: 1, paths: ["a"] });
    reg.acquire({ agentId: 2, paths: ["b"] });
    waitFor(reg, 1, ["b"]);
    expect(reg.acquire({ agentId: 2, paths: ["a"] })).toMatchObject({
      granted: false,
      conflicts: [{ path: "a", holder: 1, queued: false }],
    });
  });
});

describe("locks left by the crash lock-delay", () => {
  it("belong to nobody: waiting for one is waiting for time, not for the crashed agent come back", () => {
    const { reg, clock } = registry({ crashLockDelayMs: 5_000, timeout: 1_000 });
    reg.acquire({ agentId: 1, paths: ["a", "d/f", "e/f"] });
    reg.acquire({ agentId: 2, paths: ["b"] });
    clock.now = 500;
    reg.heartbeat(2);
    clock.now = 1_001;
    reg.tick();
    expect(reg.agentState(1)).toBe("crashed");
    expect(reg.agentState(2)).toBe("active");
    const onA = waitFor(reg, 2, ["a"]);
    reg.heartbeat(1);
    expect(reg.agentState(1)).toBe("active");
    expect(reg.acquire({ agentId: 1, paths: ["d/g"] })).toMatchObject({ granted: true });
    waitFor(reg, 1, ["b"]);
    // Below a directory: the table counts agent 1's left lock under e, but agent 1 holds nothing live there.
    const onE = waitFor(reg, 2, ["e"]);
    // Under d agent 1 holds a live lock: waiting for d is waiting for agent 1, who waits for agent 2.
    expect(refusal(reg, 2, ["d"]).data).toEqual({
      cycle: [
        { agent_id: 2, path: "d", waits_for: 1 },
        { agent_id: 1, path: "b", waits_for: 2 },
      ],
    });
    for (clock.now = 1_400; clock.now <= 6_200; clock.now += 300) {
      reg.heartbeat(1);
      reg.heartbeat(2);
    }
    expect(onA).toMatchObject([{ kind: "granted" }]);
    expect(onE).toMatchObject([{ kind: "granted" }]);
  });
});

describe("saved waits", () => {
  it(
    "restored with the snapshot into a fresh registry keep the rule: " +
      "the same request is refused with the same cycle",
    () => {
      const { reg, clock } = registry();
      reg.acquire({ agentId: 1, paths: ["src"], mode: "shared" });
      reg.acquire({ agentId: 2, paths: ["docs/a.md"] });
      waitFor(reg, 1, ["docs"]);
      waitFor(reg, 3, ["src/x"]);
      const expected = refusal(reg, 2, ["src/main.rs"]).data;
      expect(expected).toEqual({
        cycle: [
          { agent_id: 2, path: "src/main.rs", waits_for: 1 },
          { agent_id: 1, path: "docs", waits_for: 2 },
        ],
      });
      const fresh = new Registry({ now: () => clock.now });
      fresh.restore(JSON.parse(JSON.stringify(reg.snapshot())));
      fresh.loadWaits(JSON.parse(JSON.stringify(reg.saveWaits())), () => () => {});
      expect(fresh.saveWaits()).toEqual(reg.saveWaits());
      expect(fresh.lockInfo("docs")?.waiters).toBe(1);
      expect(refusal(fresh, 2, ["src/main.rs"]).data).toEqual(expected);
      expect(fresh.acquire({ agentId: 4, paths: ["src/x"], waitMs: LONG }, () => {})).toHaveProperty("waiting");
    },
  );
});
