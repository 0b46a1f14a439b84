// Time is applied as if it passed through every deadline in order: one jump
// of the clock ends in the same state as any finer path to the same time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { Registry } from "../../src/core/registry.js";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";
import { manualRegistry } from "../support/manual-registry.js";

type Op =
  | { kind: "heartbeat"; agent: number }
  | { kind: "lock"; agent: number; path: string; ttl: number }
  | { kind: "acquire"; agent: number; paths: string[]; shared: boolean; ttl: number; wait: number }
  | { kind: "release"; agent: number; path: string }
  | { kind: "record"; agent: number; path: string };

/**
 * One step of a history: time moves by `delta` (through `ticks`, points of the way where time is looked at), then `op`
 * runs.
 */
interface Step {
  delta: number;
  ticks: number[];
  op: Op;
}

const agent = fc.integer({ min: 1, max: 4 });
const path = fc.constantFrom("a", "b", "src", "src/a", "src/b");
const ttl = fc.integer({ min: 1, max: 4_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("heartbeat" as const), agent }),
  fc.record({ kind: fc.constant("lock" as const), agent, path, ttl }),
  fc.record({
    kind: fc.constant("acquire" as const),
    agent,
    paths: fc.uniqueArray(path, { minLength: 1, maxLength: 3 }),
    shared: fc.boolean(),
    ttl,
    wait: fc.integer({ min: 0, max: 5_000 }),
  }),
  fc.record({ kind: fc.constant("release" as const), agent, path }),
  fc.record({ kind: fc.constant("record" as const), agent, path }),
);
const step: fc.Arbitrary<Step> = fc
  .record({
    delta: fc.integer({ min: 0, max: 3_000 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    op,
  })
  .map(({ delta, cuts, op }) => ({
    delta,
    op,
    ticks: cuts.map((cut) => Math.floor(cut * delta)).sort((a, b) => a - b),
  }));

/** Run a history; with `fine`, time is also looked at at every tick point on the way. */
function run(timeout: number, steps: Step[], finalDelta: number, finalTicks: number[], fine: boolean) {
  const clock = { now: 0 };
  const reg = new Registry({ now: () => clock.now, config: { agent_timeout_ms: timeout } });
  const outcomes: string[] = [];
  const advance = (delta: number, ticks: number[]) => {
    const from = clock.now;
    if (fine) {
      for (const tick of ticks) {
        clock.now = from + tick;
        reg.tick();
      }
    }
    clock.now = from + delta;
  };
  steps.forEach(({ delta, ticks, op }, index) => {
    advance(delta, ticks);
    const done = (outcome: WaitOutcome<AcquireResult>) => void outcomes.push(`${index} ${JSON.stringify(outcome)}`);
    try {
      if (op.kind === "heartbeat") reg.heartbeat(op.agent);
      else if (op.kind === "lock") reg.tryLock(op.agent, op.path, op.ttl);
      else if (op.kind === "acquire")
        reg.acquire(
          {
            agentId: op.agent,
            paths: op.paths,
            mode: op.shared ? "shared" : "exclusive",
            ttlMs: op.ttl,
            waitMs: op.wait,
          },
          done,
        );
      else if (op.kind === "release") reg.releaseLock(op.agent, op.path);
      else reg.recordVersion({ agentId: op.agent, path: op.path });
    } catch (error) {
      // A deadlock refusal (the same on every path to the same time) is part of the history.
      if (!(error instanceof DomainError)) throw error;
      outcomes.push(`${index} refused: ${error.kind}`);
    }
  });
  advance(finalDelta, finalTicks);
  reg.tick();
  return { snapshot: reg.snapshot(), events: reg.events.since(0), reaped: reg.reap(), outcomes };
}

describe("time passes through every deadline in order", () => {
  it("one clock jump ends in the same state, events and wait outcomes as any finer path to the same time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 5_000 }),
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 0, max: 30_000 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 6 }),
        (timeout, steps, finalDelta, finalCuts) => {
          const finalTicks = finalCuts.filter((t) => t <= finalDelta).sort((a, b) => a - b);
          expect(run(timeout, steps, finalDelta, finalTicks, true)).toEqual(
            run(timeout, steps, finalDelta, finalTicks, false),
          );
        },
      ),
      { numRuns: Number(process.env.HISTORY_RUNS ?? 150) },
    );
  });

  it(
    "a long-silent waiter crashes at its own deadline, " +
      "before a grant that comes later, however the clock gets there",
    () => {
      for (const path of [[5_000], [1_001, 5_000], [1_011, 5_000], [3_000, 5_000]]) {
        const { reg, clock } = manualRegistry(0, { agent_timeout_ms: 1_000 });
        reg.tryLock(1, "f", 100_000);
        clock.now = 10;
        const seen: WaitOutcome<AcquireResult>[] = [];
        reg.acquire({ agentId: 2, paths: ["f"], waitMs: 200_000 }, (o) => void seen.push(o));
        for (const t of path) {
          clock.now = t;
          reg.tick();
        }
        expect(seen, `clock path ${path.join(" → ")}`).toEqual([{ kind: "granted", result: expect.anything() }]);
        expect(reg.getAgent(2)?.state, `clock path ${path.join(" → ")}`).toBe("crashed");
        expect(reg.lockHolder("f")).toBeNull();
      }
    },
  );

  it(
    "an agent crashes at the first millisecond it is over its timeout, " +
      "so a lock expiring at that instant goes first and its waiter is granted and revived",
    () => {
      const { reg, clock } = manualRegistry(0, { agent_timeout_ms: 1_000 });
      reg.tryLock(1, "f", 1_011);
      clock.now = 10;
      const seen: WaitOutcome<AcquireResult>[] = [];
      reg.acquire({ agentId: 2, paths: ["f"], waitMs: 5_000 }, (o) => void seen.push(o));
      clock.now = 500;
      reg.heartbeat(1);
      clock.now = 1_011;
      expect(reg.getAgent(2)?.state).toBe("active");
      expect(seen).toMatchObject([{ kind: "granted", result: { locks: [{ path: "f", expires_at_ms: 31_011 }] } }]);
      expect(reg.lockHolder("f")).toBe(2);
      expect(reg.getAgent(2)?.last_seen_ms).toBe(1_011);
    },
  );

  it(
    "a shorter agent timeout or a restored state does not rewrite the past: " +
      "what it makes due is applied at that moment",
    () => {
      const { reg, clock } = manualRegistry(0, { agent_timeout_ms: 60_000 });
      reg.tryLock(1, "f");
      clock.now = 20_000;
      const crashedAt: number[] = [];
      reg.events.subscribe((event) => event.type === "agent/crashed" && crashedAt.push(event.at_ms));
      reg.setConfig({ agent_timeout_ms: 1_000 });
      expect(crashedAt).toEqual([20_000]);
    },
  );
});
