// Differential test of the journal: random timed histories (on a clock
// that stands still or moves on every read) run on a
// journaled registry (with compactions at random points, waits pending
// across them, failing calls, reads that apply deadlines, reaps, restores
// of snapshots in every format with bigint hashes); the files are then
// replayed into a fresh registry, which must equal the live one: same
// snapshot, same pending waits, same agents for the next reap. Paths
// include members of Object.prototype, and a run may start with its
// counters near 2^53-1.
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LockMode } from "../../protocol/common.js";
import { replayStateDir } from "../../src/storage/durable-state.js";
import { RULES } from "../../src/core/registry.js";
import { PinnedClock } from "../../src/storage/pinned-clock.js";
import { readStateDir } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";
import { type RestoreFormat, type Step, StepRunner } from "../support/steps.js";
import { tempDir } from "../support/temp-dir.js";

/** A step, or waiting for the journal to be written (not a registry call). */
type Op = Step | { kind: "flush" };

const agent = fc.integer({ min: 1, max: 4 });
const path = fc.constantFrom(
  "a",
  "a/b",
  "a/b/c",
  "a/d",
  "b",
  "./b//c",
  "__proto__",
  "__proto__/x",
  "toString",
  "constructor/a",
);
const MAX = Number.MAX_SAFE_INTEGER;
/** Counters a run starts from: the beginning, or a few values short of 2^53-1. */
const start = fc
  .constantFrom(0, 2, 5)
  .map((left) =>
    left === 0 ? undefined : { next_id: MAX + 1 - left, next_fence: MAX + 1 - left, current_seq: MAX - left },
  );

/** An empty format-2 snapshot with these counters. */
function emptySnapshot(counters: { next_id: number; next_fence: number; current_seq: number }) {
  const { current_seq, ...agents } = counters;
  return {
    format_version: 2,
    taken_at_ms: 1_000,
    config: { default_lock_ttl_ms: 3000, agent_timeout_ms: 9000 },
    agents: { ...agents, agents: [] },
    versions: { current_seq, history: {} },
  };
}
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 4000 }) }) },
  fc
    .option(agent, { nil: undefined })
    .map(
      (id): Op =>
        id === undefined ? { kind: "register", name: "n" } : { kind: "registerWithId", id, name: `agent ${id}` },
    ),
  fc.record({
    kind: fc.constantFrom("heartbeat" as const, "unregister" as const, "releaseAll" as const, "noteEdit" as const),
    agent,
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("tryLock" as const),
      agent,
      path,
      ttl: fc.option(fc.integer({ min: 1, max: 6000 }), { nil: undefined }),
    }),
  },
  fc.record({ kind: fc.constant("release" as const), agent, path }),
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("acquire" as const),
      agent,
      paths: fc.uniqueArray(path, { minLength: 1, maxLength: 3 }),
      mode: fc.constantFrom<LockMode>("exclusive", "shared"),
      wait: fc.constantFrom(0, 500, 3000, 20_000),
    }),
  },
  fc.record({ kind: fc.constant("cancel" as const), nth: fc.nat(5) }),
  fc.record({ kind: fc.constant("renew" as const), agent }),
  fc.record({ kind: fc.constant("force" as const), path, note: fc.constant("test") }),
  fc.record({
    kind: fc.constant("record" as const),
    agent: fc.integer({ min: 0, max: 5 }),
    path,
    hash: fc.constant("18446744073709551615"),
    fence: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant("crash" as const), agents: fc.uniqueArray(agent, { maxLength: 2 }) }),
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("holder" as const), path }) },
  fc.record({ kind: fc.constant("tick" as const) }),
  fc.record({ kind: fc.constant("reap" as const) }),
  fc.record({
    kind: fc.constant("restore" as const),
    format: fc.constantFrom<RestoreFormat>("2", "1", "hostlib"),
    reap: fc.boolean(),
  }),
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("flush" as const) }) },
);

const registryOptions = (now: () => number) => ({
  now,
  config: { default_lock_ttl_ms: 3000, agent_timeout_ms: 9000 },
  crashLockDelayMs: 700,
});

describe("journal replay", () => {
  it(
    "rebuilds exactly the live registry, across compactions and pending waits, " + "its events under the same numbers",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 1, maxLength: 150, size: "max" }),
          fc.integer({ min: 100, max: 1200 }),
          fc.boolean(),
          start,
          async (ops, compactBytes, moving, counters) => {
            const dir = tempDir("harn-replay-");
            let now = 1_000;
            const clock = moving ? () => now++ : () => now;
            const state = await openState(dir, registryOptions(clock), compactBytes);
            const store = state.store;
            if (counters !== undefined) store.restore(emptySnapshot(counters));
            const runner = new StepRunner(store, { advance: (ms) => (now += ms) });
            for (const step of ops) {
              try {
                if (step.kind === "flush") await state.journal.flushed();
                else runner.run(step);
              } catch (error) {
                if (!(error instanceof Error) || !/DomainError|InvalidInputError/.test(error.name)) throw error;
              }
            }
            await state.close();
            const live = state.store.registry;
            const replayed = replayStateDir(
              readStateDir(dir),
              new PinnedClock(() => now),
              registryOptions(() => now),
            ).registry;
            expect(replayed.saveWaits()).toEqual(live.saveWaits());
            expect(replayed.saveCrashedSinceReap()).toEqual(live.saveCrashedSinceReap());
            expect(replayed.snapshot()).toEqual(live.snapshot());
            // The same events under the same numbers: those since the last compaction, re-made by the replay.
            expect(replayed.events.latestSeq).toBe(live.events.latestSeq);
            expect(replayed.events.oldestSeq).toBe((readStateDir(dir).saved?.lastEventSeq ?? 0) + 1);
            expect(replayed.events.since(0)).toEqual(live.events.since(replayed.events.oldestSeq - 1));
          },
        ),
        { numRuns: Number(process.env.REPLAY_RUNS ?? 60) },
      );
    },
  );

  it(
    "journals a tick before a read that applies a deadline, " +
      "so a waiter granted by the read is granted at the same time on replay",
    async () => {
      const dir = tempDir("harn-replay-");
      let now = 1_000;
      const state = await openState(
        dir,
        registryOptions(() => now),
      );
      state.store.tryLock(1, "a", 1000);
      state.store.acquire({ agentId: 2, paths: ["a"], waitMs: 60_000 }, () => {});
      now = 2_500;
      expect(state.store.lockHolder("a")).toBe(2);
      now = 4_000;
      state.store.heartbeat(3);
      await state.close();
      const replayed = replayStateDir(
        readStateDir(dir),
        new PinnedClock(() => now),
        registryOptions(() => now),
      ).registry;
      expect(replayed.lockInfo("a")?.holders).toEqual([{ agent_id: 2, fence: 2, expires_at_ms: 5_000 }]);
      expect(replayed.snapshot()).toEqual(state.store.registry.snapshot());
    },
  );

  it(
    "replays each change under the lock-delay and limits in force when it was made, " +
      "whatever the replaying process's",
    async () => {
      const dir = tempDir("harn-replay-");
      let now = 1_000;
      const strict = { now: () => now, crashLockDelayMs: 5_000, limits: { maxAgents: 2, maxLocksPerAgent: 1 } };
      const first = await openState(dir, strict);
      first.store.tryLock(1, "a");
      expect(() => first.store.tryLock(1, "b")).toThrow(/past --max-locks-per-agent 1/);
      first.store.registerWithId(2, "two");
      expect(() => first.store.register("three")).toThrow(/past --max-agents 2/);
      first.store.crashAgents([1]);
      now = 2_000;
      expect(first.store.tryLock(2, "a")).toEqual({ locked: false, holder: 1 });
      await first.close();
      const lenient = { now: () => now, crashLockDelayMs: 0 };
      const second = await openState(dir, lenient, 1);
      expect(second.store.agentDetails().map((agent) => agent.id)).toEqual([1, 2]);
      expect(second.store.lockHolder("a")).toBe(1);
      expect(second.store.lockHolder("b")).toBeNull();
      expect(second.store.tryLock(2, "b")).toEqual({ locked: true, holder: 2 });
      expect(second.store.register("three")).toBe(3);
      await second.close();
      const third = await openState(dir, lenient);
      expect(third.store.agentDetails().map((agent) => agent.id)).toEqual([1, 2, 3]);
      await third.close();
    },
  );

  it("keeps a lock and a history on __proto__ across a compaction, so the path stays refused to others", async () => {
    const dir = tempDir("harn-replay-");
    const options = { now: () => 1_000 };
    const first = await openState(dir, options, 1);
    first.store.tryLock(1, "__proto__");
    first.store.recordVersion({ agentId: 1, path: "__proto__" });
    await first.journal.flushed();
    await first.close();
    expect(Object.keys(readStateDir(dir).saved?.snapshot.versions.history ?? {})).toEqual(["__proto__"]);
    const second = await openState(dir, options, 1 << 30);
    expect(second.store.tryLock(2, "__proto__")).toEqual({ locked: false, holder: 1 });
    expect(second.store.changesSince(0).map((change) => change.path)).toEqual(["__proto__"]);
    await second.close();
  });

  it("opens a state directory compacted with every counter at its limit", async () => {
    const dir = tempDir("harn-replay-");
    const options = { now: () => 1_000 };
    const first = await openState(dir, options, 1);
    first.store.restore(emptySnapshot({ next_id: MAX, next_fence: MAX, current_seq: MAX - 1 }));
    expect(first.store.register("last")).toBe(MAX);
    expect(first.store.tryLock(MAX, "a")).toEqual({ locked: true, holder: MAX });
    expect(first.store.recordVersion({ agentId: MAX, path: "a" })).toBe(MAX);
    expect(() => first.store.register("one more")).toThrow(/agent id counter/);
    expect(() => first.store.tryLock(MAX, "b")).toThrow(/fence counter/);
    expect(() => first.store.recordVersion({ agentId: 0, path: "a" })).toThrow(/version seq counter/);
    await first.journal.flushed();
    await first.close();
    expect(readStateDir(dir).saved?.snapshot.agents).toMatchObject({ next_id: MAX + 1, next_fence: MAX + 1 });
    const second = await openState(dir, options, 1 << 30);
    expect(second.store.snapshot()).toEqual(first.store.snapshot());
    await second.close();
  });

  it("carries locks left by crashed agents (lock-delay) across a compaction", async () => {
    const dir = tempDir("harn-replay-");
    let now = 1_000;
    const options = { now: () => now, crashLockDelayMs: 5_000 };
    const first = await openState(dir, options, 1);
    first.store.tryLock(1, "a");
    first.store.unregister(1);
    first.store.tryLock(2, "b");
    first.store.crashAgents([2]);
    first.store.acquire({ agentId: 3, paths: ["b"], waitMs: 60_000 }, () => {});
    await first.journal.flushed();
    await first.close();
    expect(readStateDir(dir).saved?.delayed).toEqual([{ path: "b", agent_id: 2, fence: 2, until_ms: 6_000 }]);
    now = 2_000;
    const second = await openState(dir, options);
    expect(second.store.tryLock(4, "b")).toEqual({ locked: false, holder: 2 });
    expect(second.store.tryLock(4, "a")).toEqual({ locked: true, holder: 4 });
    now = 6_000;
    expect(second.store.tryLock(4, "b")).toEqual({ locked: true, holder: 4 });
    await second.close();
  });

  it(
    "replays a journal written before rules were numbered under its rules " +
      "(a waiting acquire registered its agent at once), " +
      "and what a newer process appends under the current rules",
    async () => {
      const dir = tempDir("harn-replay-");
      cpSync(fileURLToPath(new URL("../fixtures/journal/every-op", import.meta.url)), dir, { recursive: true });
      const now = 6_000;
      const state = await openState(dir, { now: () => now });
      // Agent 23 waited, was cancelled and never granted: under rules 1 it was registered all the same.
      expect(state.store.getAgent(23)).toMatchObject({ name: "agent-23", locks: [] });
      state.store.tryLock(1, "x");
      state.store.acquire({ agentId: 30, paths: ["x"], waitMs: 60_000 }, () => {});
      expect(state.store.getAgent(30)).toBeNull();
      await state.close();
      const configures = readFileSync(join(dir, "journal.0.ndjson"), "utf8")
        .split("\n")
        .filter((line) => line.includes('"op":"configure"'))
        .map((line) => JSON.parse(line.slice(line.indexOf(" ") + 1)).a[0].rules);
      expect(configures).toEqual([undefined, RULES]);
      const replayed = replayStateDir(readStateDir(dir), new PinnedClock(() => now), { now: () => now }).registry;
      expect(replayed.snapshot()).toEqual(state.store.registry.snapshot());
      expect(replayed.saveWaits()).toEqual(state.store.registry.saveWaits());
      expect(replayed.getAgent(23)).not.toBeNull();
      expect(replayed.getAgent(30)).toBeNull();
      expect(replayed.processOptions().rules).toBe(RULES);
    },
  );

  it("journals reap: after a restart it reports the agents crashed since the last one, across compaction", async () => {
    const dir = tempDir("harn-replay-");
    const now = () => 1_000;
    const first = await openState(dir, registryOptions(now));
    first.store.tryLock(1, "a");
    first.store.tryLock(2, "b");
    first.store.crashAgents([1]);
    expect(first.store.reap()).toEqual([1]);
    first.store.crashAgents([2]);
    await first.close();
    const compacting = await openState(dir, registryOptions(now), 1);
    await compacting.close();
    expect(readStateDir(dir).saved?.crashedSinceReap).toEqual([2]);
    const second = await openState(dir, registryOptions(now));
    expect(second.store.reap()).toEqual([2]);
    await second.close();
    const third = await openState(dir, registryOptions(now));
    expect(third.store.reap()).toEqual([]);
    await third.close();
  });
});
