// Every counter stops at 2^53-1: restored near the limit, driven to it, and
// then each call that needs one more value is refused with
// id_space_exhausted, naming the counter, with nothing changed.
import { describe, expect, it } from "vitest";
import { methodNames } from "../../protocol/methods.js";
import { DomainError, InvalidInputError } from "../../src/core/errors.js";
import { EventLog } from "../../src/core/events.js";
import { Registry } from "../../src/core/registry.js";
import type { AcquireResult, WaitOutcome } from "../../src/core/store.js";
import { manualRegistry } from "../support/manual-registry.js";

const MAX = Number.MAX_SAFE_INTEGER;
type Json = any;

/** A format-2 snapshot with these counters and agents (each agent entry filled in from `agents`). */
function snapshotAt(
  counters: { nextId?: number; nextFence?: number; currentSeq?: number },
  agents: Json[] = [],
  history: Json = {},
): Json {
  return {
    format_version: 2,
    taken_at_ms: 0,
    config: { default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 },
    agents: {
      next_id: counters.nextId ?? 1,
      next_fence: counters.nextFence ?? 1,
      agents: agents.map((agent) => ({
        name: "a",
        state: "active",
        last_seen_ms: 0,
        edit_count: 0,
        locked_paths: {},
        lock_fences: {},
        shared_paths: [],
        ...agent,
      })),
    },
    versions: { current_seq: counters.currentSeq ?? 0, history },
  };
}

function restored(snapshot: Json): Registry {
  const { reg } = manualRegistry(0);
  reg.restore(JSON.parse(JSON.stringify(snapshot)));
  return reg;
}

/**
 * `call` is refused with id_space_exhausted naming `counter`, the message not prefixed with a method name, and the
 * state is as before.
 */
function expectExhausted(reg: Registry, counter: RegExp, call: () => unknown): void {
  const before = reg.snapshot();
  const seq = reg.events.latestSeq;
  let error: unknown;
  try {
    call();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).kind).toBe("id_space_exhausted");
  expect((error as Error).message).toMatch(counter);
  expect(methodNames.filter((method) => (error as Error).message.startsWith(method))).toEqual([]);
  expect(reg.snapshot()).toEqual(before);
  expect(reg.events.latestSeq).toBe(seq);
}

/** snapshot → JSON → restore → snapshot is the same, at whatever counters the registry has reached. */
function expectRoundTrip(reg: Registry): void {
  const snapshot = reg.snapshot();
  expect(restored(snapshot).snapshot()).toEqual(snapshot);
}

describe("counters near 2^53-1", () => {
  it.each([MAX - 2, MAX - 1, MAX, MAX + 1])(
    "restores next_id, next_fence and current_seq at %s and round-trips them",
    (value) => {
      const reg = restored(snapshotAt({ nextId: value, nextFence: value, currentSeq: Math.min(value, MAX) }));
      expect(reg.snapshot().agents).toMatchObject({ next_id: value, next_fence: value });
      expect(reg.currentSeq()).toBe(Math.min(value, MAX));
      expectRoundTrip(reg);
    },
  );

  it.each([
    ["next_id", snapshotAt({ nextId: 2 ** 53 + 2 }), /^snapshot\.agents\.next_id must be an integer from 1 to 2\^53/],
    [
      "next_fence",
      snapshotAt({ nextFence: 2 ** 53 + 2 }),
      /^snapshot\.agents\.next_fence must be an integer from 1 to 2\^53/,
    ],
    [
      "current_seq",
      snapshotAt({ currentSeq: 2 ** 53 }),
      /^snapshot\.versions\.current_seq must be a non-negative integer/,
    ],
    ["edit_count", snapshotAt({}, [{ id: 1, edit_count: 2 ** 53 }]), /^snapshot\.agents\.agents\[0\]\.edit_count/],
  ])("refuses a %s past what the schema allows, naming the field", (_field, snapshot, message) => {
    const { reg } = manualRegistry(0);
    reg.tryLock(1, "kept");
    const before = reg.snapshot();
    expect(() => reg.restore(snapshot)).toThrow(InvalidInputError);
    expect(() => reg.restore(snapshot)).toThrow(message);
    expect(reg.snapshot()).toEqual(before);
  });

  it("hands out the last agent ids, then refuses register", () => {
    const reg = restored(snapshotAt({ nextId: MAX - 1 }));
    expect(reg.register("a")).toBe(MAX - 1);
    expect(reg.register("b")).toBe(MAX);
    expectExhausted(reg, /^the agent id counter \(next_id\) is exhausted/, () => reg.register("c"));
    expect(reg.registerWithId(5, "explicit ids still work")).toBe(5);
    expectRoundTrip(reg);
  });

  it("hands out the last fences, refusing whole an acquire that needs more than are left", () => {
    const reg = restored(snapshotAt({ nextFence: MAX - 1 }));
    expectExhausted(reg, /^the fence counter \(next_fence\) is exhausted: 3 more/, () =>
      reg.acquire({ agentId: 1, paths: ["a", "b", "c"] }),
    );
    expect(reg.acquire({ agentId: 1, paths: ["a", "b"], mode: "shared" })).toMatchObject({
      locks: [{ fence: MAX - 1 }, { fence: MAX }],
    });
    expectExhausted(reg, /^the fence counter/, () => reg.tryLock(1, "c"));
    expectExhausted(reg, /^the fence counter/, () => reg.acquire({ agentId: 1, paths: ["a", "c"] }));
    expectExhausted(reg, /^the fence counter/, () => reg.acquire({ agentId: 2, paths: ["a"], mode: "shared" }));
    expectExhausted(reg, /^the fence counter/, () =>
      reg.acquire({ agentId: 2, paths: ["a"], waitMs: 1_000 }, () => {}),
    );
    expect(reg.acquire({ agentId: 1, paths: ["a", "b"] })).toMatchObject({
      granted: true,
      locks: [{ fence: MAX - 1, mode: "exclusive" }, { fence: MAX }],
    });
    expect(reg.tryLock(1, "a")).toEqual({ locked: true, holder: 1 });
    expect(reg.snapshot().agents.next_fence).toBe(MAX + 1);
    expectRoundTrip(reg);
  });

  it("refuses a queued acquire whose grant would need a fence past the limit, granting nothing", () => {
    const reg = restored(snapshotAt({ nextFence: MAX - 1 }));
    reg.tryLock(1, "a");
    const outcomes: WaitOutcome<AcquireResult>[] = [];
    expect(reg.acquire({ agentId: 2, paths: ["a"], waitMs: 10_000 }, (outcome) => outcomes.push(outcome))).toEqual({
      waiting: 1,
    });
    reg.tryLock(3, "b");
    reg.releaseLock(1, "a");
    expect(outcomes).toEqual([
      { kind: "id_space_exhausted", why: expect.stringMatching(/^the fence counter \(next_fence\) is exhausted/) },
    ]);
    expect(reg.lockInfo("a")).toBeNull();
    expect(reg.getAgent(2)).toBeNull();
    expectRoundTrip(reg);
  });

  it("hands out the last version seqs, then refuses version_record", () => {
    const reg = restored(snapshotAt({ currentSeq: MAX - 1 }));
    expect(reg.recordVersion({ agentId: 0, path: "a" })).toBe(MAX);
    expectExhausted(reg, /^the version seq counter \(current_seq\) is exhausted/, () =>
      reg.recordVersion({ agentId: 0, path: "b" }),
    );
    expect(reg.changesSince(MAX - 1)).toMatchObject([{ path: "a", seq: MAX }]);
    expectRoundTrip(reg);
  });

  it("counts an agent's edits up to the last edit_count, then refuses its edits", () => {
    const reg = restored(snapshotAt({}, [{ id: 1, edit_count: MAX - 1 }]));
    expect(reg.recordVersion({ agentId: 1, path: "a" })).toBe(1);
    expect(reg.getAgent(1)?.edit_count).toBe(MAX);
    expectExhausted(reg, /^edit_count of agent 1 is exhausted/, () => reg.recordVersion({ agentId: 1, path: "a" }));
    expectExhausted(reg, /^edit_count of agent 1 is exhausted/, () => reg.noteEdit(1));
    expect(reg.recordVersion({ agentId: 2, path: "a" })).toBe(2);
    expectRoundTrip(reg);
  });

  it("hands out the last wait id, then refuses to wait, without registering the agent", () => {
    const { reg } = manualRegistry(0);
    reg.tryLock(1, "a");
    reg.loadWaits({ next_id: MAX, waits: [] }, () => () => {});
    expect(reg.acquire({ agentId: 2, paths: ["a"], waitMs: 1_000 }, () => {})).toEqual({ waiting: MAX });
    expectExhausted(reg, /^the wait id counter is exhausted/, () =>
      reg.acquire({ agentId: 3, paths: ["a"], waitMs: 1_000 }, () => {}),
    );
    expect(reg.getAgent(3)).toBeNull();
    expect(reg.saveWaits().next_id).toBe(MAX + 1);
    expect(() => manualRegistry(0).reg.loadWaits({ next_id: MAX + 3, waits: [] }, () => () => {})).toThrow(
      /waits\.next_id/,
    );
  });

  it(
    "refuses calls that could need event numbers past the limit; " +
      "time, reads and releases still run, and no event_seq passes 2^53-1",
    () => {
      const clock = { now: 0 };
      const events = new EventLog(MAX - 520);
      const reg = new Registry({
        now: () => clock.now,
        events,
        config: { default_lock_ttl_ms: 1_000, agent_timeout_ms: 5_000 },
      });
      expect(reg.register("a")).toBe(1);
      expect(reg.tryLock(1, "a")).toEqual({ locked: true, holder: 1 });
      expect(reg.tryLock(1, "b")).toEqual({ locked: true, holder: 1 });
      expectExhausted(reg, /^the event seq counter \(event_seq\) is exhausted/, () => reg.tryLock(1, "c"));
      expectExhausted(reg, /^the event seq counter/, () => reg.register("b"));
      expectExhausted(reg, /^the event seq counter/, () =>
        reg.acquire({ agentId: 2, paths: ["a"], waitMs: 100 }, () => {}),
      );
      expect(reg.releaseLock(1, "b")).toBe(true);
      expect(reg.lockHolder("a")).toBe(1);
      clock.now = 10_000;
      expect(reg.reap()).toEqual([1]);
      expect(reg.snapshot().agents.agents).toMatchObject([{ id: 1, state: "crashed" }]);
      expect(events.latestSeq).toBeLessThanOrEqual(MAX);
      expect(events.since(MAX - 521).map((event) => event.type)).toEqual([
        "agent/registered",
        "lock/granted",
        "lock/granted",
        "lock/released",
        "lock/released",
        "agent/crashed",
      ]);
    },
  );

  it("refuses a restore whose state could need event numbers past the limit", () => {
    const reg = new Registry({ now: () => 0, events: new EventLog(MAX - 3) });
    const locks = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, 30_000]));
    const fences = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, i + 1]));
    // 3 numbers left: the registry/restored event, then a release per lock and a crash per active agent.
    expectExhausted(reg, /^the event seq counter/, () =>
      reg.restore(snapshotAt({ nextFence: 10 }, [{ id: 1, locked_paths: locks(2), lock_fences: fences(2) }])),
    );
    expect(
      reg.restore(snapshotAt({ nextFence: 10 }, [{ id: 1, locked_paths: locks(1), lock_fences: fences(1) }])),
    ).toEqual({ agents: 1, locks: 1, current_seq: 0 });
  });

  it.each([
    [
      "format-1",
      (agents: Json[]) => ({ ...snapshotAt({ nextId: 2 }, agents), format_version: 1, agents: { next_id: 2, agents } }),
    ],
    ["harn-hostlib", (agents: Json[]) => ({ agents: { next_id: 2, agents }, versions: {} })],
  ])("refuses a %s snapshot whose locks would need fresh fences past the limit, naming the lock", (_format, make) => {
    const reg = restored(snapshotAt({ nextFence: MAX }));
    const before = reg.snapshot();
    const agent = { id: 1, name: "a", state: "active", last_seen_ms: 0, edit_count: 0 };
    expect(() => reg.restore(make([{ ...agent, locked_paths: { a: 30_000, b: 30_000 } }]))).toThrow(
      /^snapshot\.agents\.agents\[0\]\.locked_paths\["b"\] needs a fresh fence, and every fence up to 2\^53-1 is taken/,
    );
    expect(reg.snapshot()).toEqual(before);
    reg.restore(make([{ ...agent, locked_paths: { a: 30_000 } }]));
    expect(reg.lockInfo("a")?.holders).toEqual([{ agent_id: 1, fence: MAX, expires_at_ms: 30_000 }]);
    expectRoundTrip(reg);
  });

  it("names no method in a domain error's message (the server puts it in front)", () => {
    const { reg } = manualRegistry(0);
    reg.tryLock(1, "a");
    let message = "";
    try {
      reg.recordVersion({ agentId: 1, path: "a", fence: 99 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^fence 99 is not a live lock of agent 1/);
  });
});
