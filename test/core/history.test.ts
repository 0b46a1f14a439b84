// A history checker over long random histories: from the event stream and
// the waiters' answers it checks that no two conflicting grants are ever
// live together, that fences strictly increase in grant order, that every
// waiter is answered exactly once, and that conflicting waiters are served
// first come, first served. An acquire refused as a deadlock must have
// asked to wait and must change nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { Registry } from "../../src/core/registry.js";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";
import { type Mode, overlap } from "../support/reference-model.js";
import { type Step, StepRunner } from "../support/steps.js";

interface Held {
  agent: number;
  path: string;
  mode: Mode;
  fence: number;
}

interface Queued {
  id: number;
  agent: number;
  paths: string[];
  mode: Mode;
  answers: number;
}

const conflicting = (a: { agent: number; mode: Mode }, b: { agent: number; mode: Mode }) =>
  a.agent !== b.agent && (a.mode === "exclusive" || b.mode === "exclusive");

const agent = fc.integer({ min: 1, max: 6 });
const path = fc.constantFrom("a", "a/b", "a/b/c", "a/d", "b", "b/c", "c");
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("acquire" as const),
      agent,
      paths: fc.array(path, { minLength: 1, maxLength: 3 }),
      mode: fc.constantFrom<Mode>("exclusive", "shared"),
      ttl: fc.integer({ min: 1, max: 3_000 }),
      wait: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4_000 })),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("release" as const), agent, path }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("releaseAll" as const), agent }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("heartbeat" as const), agent }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unregister" as const), agent }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("force" as const), path }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel" as const), nth: fc.nat({ max: 5 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 2_500 }) }),
  },
);

function check(steps: Step[], sabotage?: (reg: Registry) => void): void {
  const clock = { now: 0 };
  const reg = new Registry({ now: () => clock.now, config: { agent_timeout_ms: 5_000 } });
  sabotage?.(reg);
  const held = new Map<string, Held>();
  const key = (h: { agent: number; path: string }) => `${h.agent} ${h.path}`;
  let highestFence = 0;
  const queued = new Map<number, Queued>();

  reg.events.subscribe((event) => {
    if (event.type === "lock/released") {
      expect(
        held.delete(key({ agent: event.agent_id, path: event.path })),
        `released what was not held: ${JSON.stringify(event)}`,
      ).toBe(true);
    }
    if (event.type !== "lock/granted") return;
    const lock: Held = { agent: event.agent_id, path: event.path, mode: event.mode, fence: event.fence };
    const previous = held.get(key(lock));
    if (previous === undefined) {
      expect(lock.fence, "fences strictly increase in grant order").toBeGreaterThan(highestFence);
      highestFence = lock.fence;
    } else {
      expect(lock.fence, "a refresh or mode change keeps the fence").toBe(previous.fence);
    }
    for (const other of held.values()) {
      if (conflicting(lock, other) && overlap(lock.path, other.path)) {
        throw new Error(`conflicting grants live together: ${JSON.stringify(lock)} and ${JSON.stringify(other)}`);
      }
    }
    held.set(key(lock), lock);
  });

  const all: Queued[] = [];
  const answer = (id: number, outcome: WaitOutcome<AcquireResult>) => {
    const entry = all.find((each) => each.id === id) as Queued;
    entry.answers++;
    expect(entry.answers, `waiter ${entry.id} answered twice`).toBe(1);
    queued.delete(entry.id);
    if (outcome.kind !== "granted") return;
    for (const earlier of queued.values()) {
      if (
        earlier.id < entry.id &&
        conflicting(earlier, entry) &&
        earlier.paths.some((p) => entry.paths.some((q) => overlap(p, q)))
      ) {
        throw new Error(`waiter ${entry.id} was granted before the earlier conflicting waiter ${earlier.id}`);
      }
    }
  };

  const runner = new StepRunner(reg, { advance: (ms) => (clock.now += ms), onOutcome: answer });
  for (const each of steps) {
    const before =
      each.kind === "acquire" && each.wait > 0 ? JSON.stringify([reg.listLocks(), reg.saveWaits()]) : undefined;
    let result: unknown;
    try {
      result = runner.run(each);
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind !== "deadlock" || before === undefined) throw error;
      expect(JSON.stringify([reg.listLocks(), reg.saveWaits()]), "a deadlock refusal changes nothing").toBe(before);
      continue;
    }
    if (each.kind === "acquire" && "waiting" in (result as object)) {
      const entry: Queued = {
        id: (result as { waiting: number }).waiting,
        agent: each.agent,
        paths: each.paths,
        mode: each.mode,
        answers: 0,
      };
      queued.set(entry.id, entry);
      all.push(entry);
    }
    if (each.kind === "advance") runner.run({ kind: "tick" });
  }
  clock.now += 1_000_000;
  reg.tick();
  expect(queued.size, "every waiter is answered by the end").toBe(0);
  for (const entry of all) expect(entry.answers).toBe(1);
  clock.now += 1_000_000;
  reg.tick();
  expect(held.size, "every grant is released by the end, expiry included").toBe(0);
}

describe("history checker", () => {
  it("finds no overlap of conflicting grants, no fence going back, no waiter answered twice or out of turn", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 3_000, size: "max" }), (steps) => check(steps)),
      { numRuns: Number(process.env.HISTORY_RUNS ?? 40) },
    );
  });

  it("fails on a registry that ignores conflicts (the checker can fail)", () => {
    const steps: Step[] = [
      { kind: "acquire", agent: 1, paths: ["a"], mode: "exclusive", ttl: 100, wait: 0 },
      { kind: "acquire", agent: 2, paths: ["a/b"], mode: "shared", ttl: 100, wait: 0 },
    ];
    expect(() => check(steps)).not.toThrow();
    const ignoreConflicts = (reg: Registry) =>
      Object.assign((reg as unknown as { locking: object }).locking, { conflictsFor: () => [] });
    expect(() => check(steps, ignoreConflicts)).toThrow(/conflicting grants live together/);
  });
});
