// Model-based test: random timed histories run against the real core and
// the reference model; every result, every wait outcome and the full state
// are compared after each command. A waiting acquire is refused as a
// deadlock exactly when the model's brute-force waits-for graph says it
// would close a cycle, with a cycle the model confirms, and no cycle of
// waiting agents is ever left in the queue. Paths and names include members of
// Object.prototype, and a run may start with its counters (ids, fences,
// seqs, wait ids, an agent's edit_count) near 2^53-1, where calls that need
// one more value are refused with nothing changed. The same commands run
// against every store (memory, a state directory, PostgreSQL:
// store-under-test.ts), each call awaited, and after each history another
// process opening the state finds what the store held; the directory and
// PostgreSQL run fewer histories (a journal line, a round trip per call).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../protocol/snapshot.js";
import { DomainError } from "../../src/core/errors.js";
import { Registry, processOptionsOf } from "../../src/core/registry.js";
import type { AcquireResult, ServedStore, WaitOutcome } from "../../src/core/store.js";
import { STATE_FORMAT, type SavedState } from "../../src/storage/state-files.js";
import {
  MAX,
  type Mode,
  type ModelOutcome,
  ReferenceModel,
  modelNormalize,
  overlap,
} from "../support/reference-model.js";
import { type Step, type StepOf, StepRunner } from "../support/steps.js";
import { CORE_STORES, type CoreStoreKind, type StoreUnderTest, storeSeries } from "../support/store-under-test.js";

interface Real {
  store: StoreUnderTest;
  /** The store's calls (every answer awaited). */
  reg: ServedStore;
  outcomes: ModelOutcome[];
  /** Makes every step's calls on `reg`. */
  runner: StepRunner<ServedStore>;
}

type Cmd = fc.AsyncCommand<ReferenceModel, Real>;

function command(label: string, run: (m: ReferenceModel, r: Real) => Promise<void>): Cmd {
  return {
    check: () => true,
    run: async (m, r) => {
      await run(m, r);
      m.settle();
      // Three reads at once: PostgreSQL answers them in one round, at one time.
      const [agents, locks, seq] = await Promise.all([r.reg.listAgents(), r.reg.listLocks(), r.reg.currentSeq()]);
      expect(agents).toEqual(m.agentsView());
      expect(locks).toEqual(m.locksView());
      expect(seq).toBe(m.seq);
      expect(r.outcomes).toEqual(m.outcomes);
      expect(m.agentOnCycle(), "a cycle of waiting agents is left in the queue").toBeUndefined();
    },
    toString: () => label,
  };
}

const isId = (id: number) => Number.isSafeInteger(id) && id >= 1;

/** What `call` throws or rejects with (undefined when it answers). */
async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Expect `call` to throw or reject (with a message matching `message`, when given). */
async function expectThrows(call: () => unknown, message?: RegExp): Promise<void> {
  const error = await thrown(call);
  expect(error, "throws").toBeInstanceOf(Error);
  if (message !== undefined) expect((error as Error).message).toMatch(message);
}

/** Deadlock refusals across all runs: the generator must reach them. */
const seen = { deadlocks: 0 };

/** Each conflict the core reports must be one the model knows of. */
function expectValidConflicts(
  m: ReferenceModel,
  agent: number,
  paths: string[],
  mode: Mode,
  conflicts: AcquireResult["conflicts"],
): void {
  expect(conflicts.length).toBeGreaterThan(0);
  for (const c of conflicts) {
    if (c.queued) {
      expect(m.waiters.some((w) => w.agent === c.holder && w.mode === c.mode && w.paths.includes(c.path))).toBe(true);
    } else {
      const lock = m.locks.find(
        (l) => l.agent === c.holder && l.path === c.path && l.mode === c.mode && l.expiry === c.expires_at_ms,
      );
      expect(lock, JSON.stringify(c)).toBeDefined();
      expect(c.holder).not.toBe(agent);
      expect(mode === "exclusive" || c.mode === "exclusive").toBe(true);
      expect(paths.some((p) => overlap(p, c.path))).toBe(true);
    }
  }
}

function recordOutcome(r: { outcomes: ModelOutcome[] }): (id: number, outcome: WaitOutcome<AcquireResult>) => void {
  return (id, outcome) => {
    if (outcome.kind === "granted") r.outcomes.push({ id, kind: "granted", locks: outcome.result.locks });
    else if (outcome.kind === "agent_gone") r.outcomes.push({ id, kind: `agent_gone:${outcome.why}` });
    else r.outcomes.push({ id, kind: outcome.kind });
  };
}

/** The step's call on the real registry, through the shared interpreter. */
const call =
  <K extends Step["kind"]>(r: Real, step: StepOf<K>) =>
  () =>
    r.runner.run(step);

const ids = fc.integer({ min: 1, max: 5 });
const badIds = fc.constantFrom(0, -3, 1.5, Number.MAX_SAFE_INTEGER + 1);
const paths = fc.constantFrom(
  "a",
  "a/b",
  "a/b/c",
  "a/x",
  "b",
  "b/c",
  "ab",
  "./a//b",
  "x/../a",
  "b\\c",
  "__proto__",
  "__proto__/a",
  "a/__proto__",
  "constructor/x",
  "toString",
  "a/hasOwnProperty",
);
/** Names of Object.prototype's members, as agent names. */
const names = fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype)));
const badPaths = fc.constantFrom("../esc", "/abs", "C:/x", "", ".");
const anyPath = fc.oneof({ weight: 6, arbitrary: paths }, { weight: 1, arbitrary: badPaths });
const modes = fc.constantFrom<Mode>("exclusive", "shared");
const ttls = fc.option(
  fc.oneof(fc.constantFrom(1, 10, 100, 1_000, 30_000, 45_000), fc.integer({ min: 1, max: 60_000 })),
  { nil: undefined },
);
const waits = fc.oneof(fc.constant(0), fc.constantFrom(1, 10, 100, 1_000, 50_000), fc.integer({ min: 0, max: 60_000 }));
const steps = fc.oneof(
  fc.constantFrom(0, 1, 9, 10, 90, 99, 100, 1_000, 15_000, 29_999, 30_000, 44_999, 45_000, 45_001),
  fc.integer({ min: 0, max: 50_000 }),
);
const ops = fc.constantFrom("snapshot", "write", "replace_range", "insert_after", "delete_range", "patch", "delete");
const hashes = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.nat(),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String),
);

const commands = [
  steps.map((dt) =>
    command(`advance(${dt})`, async (m, r) => {
      m.now += dt;
      await r.runner.run({ kind: "advance", ms: dt });
    }),
  ),
  names.map((name) =>
    command(`register(${JSON.stringify(name)})`, async (m, r) => {
      const register = call(r, { kind: "register", name });
      m.settle();
      if (m.nextId > MAX) return expectThrows(register, /^the agent id counter/);
      const id = m.nextId;
      m.install(id, name);
      expect(await register()).toBe(id);
    }),
  ),
  fc.tuple(fc.oneof(ids, badIds), names).map(([id, name]) =>
    command(`registerWithId(${id})`, async (m, r) => {
      const register = call(r, { kind: "registerWithId", id, name });
      if (!isId(id)) return expectThrows(register);
      m.settle();
      m.install(id, name);
      m.pump();
      expect(await register()).toBe(id);
    }),
  ),
  fc.oneof(ids, badIds).map((id) =>
    command(`heartbeat(${id})`, async (m, r) => {
      const heartbeat = call(r, { kind: "heartbeat", agent: id });
      if (!isId(id)) return expectThrows(heartbeat);
      m.settle();
      if (m.agents.has(id)) m.touch(id);
      else m.install(id, `agent-${id}`);
      await heartbeat();
    }),
  ),
  ids.map((id) =>
    command(`unregister(${id})`, async (m, r) => {
      m.settle();
      const existed = m.agents.has(id);
      if (existed) m.dropAgent(id, "unregistered");
      else m.failWaiters(id, "unregistered");
      m.pump();
      expect(await r.runner.run({ kind: "unregister", agent: id })).toBe(existed);
    }),
  ),
  ids.map((id) =>
    command(`noteEdit(${id})`, async (m, r) => {
      const noteEdit = call(r, { kind: "noteEdit", agent: id });
      m.settle();
      const agent = m.agents.get(id);
      if (agent && agent.edits >= MAX) return expectThrows(noteEdit, /^edit_count of agent/);
      if (agent) {
        agent.edits++;
        m.touch(id);
      }
      await noteEdit();
    }),
  ),
  fc
    .tuple(fc.oneof({ weight: 5, arbitrary: ids }, { weight: 1, arbitrary: badIds }), anyPath, ttls)
    .map(([id, path, ttl]) =>
      command(`tryLock(${id}, ${JSON.stringify(path)}, ${ttl})`, async (m, r) => {
        const key = modelNormalize(path);
        const tryLock = call(r, { kind: "tryLock", agent: id, path, ttl });
        if (key === null || !isId(id)) return expectThrows(tryLock);
        m.settle();
        const blocked = m.requestBlocked(id, [key], "exclusive");
        if (!blocked && m.newLocks(id, [key]) > m.fenceRoom()) return expectThrows(tryLock, /^the fence counter/);
        const result = await tryLock();
        expect(result.locked).toBe(!blocked);
        if (blocked) expect(m.acceptableHolders(id, key).has(result.holder)).toBe(true);
        else {
          m.grantAll(id, [key], "exclusive", ttl ?? m.ttl);
          m.pump();
        }
      }),
    ),
  fc
    .tuple(ids, fc.array(anyPath, { minLength: 1, maxLength: 3 }), modes, ttls, waits)
    .map(([id, wanted, mode, ttl, wait]) =>
      command(`acquire(${id}, ${JSON.stringify(wanted)}, ${mode}, ttl ${ttl}, wait ${wait})`, async (m, r) => {
        const keys = wanted.map(modelNormalize);
        const acquire = call(r, { kind: "acquire", agent: id, paths: wanted, mode, ttl, wait });
        if (keys.includes(null)) return expectThrows(acquire);
        const unique = [...new Set(keys as string[])];
        m.settle();
        const blocked = m.requestBlocked(id, unique, mode);
        if ((!blocked || wait > 0) && m.newLocks(id, unique) > m.fenceRoom())
          return expectThrows(acquire, /^the fence counter/);
        if (blocked && wait > 0 && m.nextWaiterId > MAX) return expectThrows(acquire, /^the wait id counter/);
        if (blocked && wait > 0 && m.wouldDeadlock(id, unique, mode)) {
          const error = await thrown(acquire);
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).kind).toBe("deadlock");
          const cycle = (error as DomainError).data?.cycle as { agent_id: number; path: string; waits_for: number }[];
          expect(m.cycleProblem(id, unique, mode, cycle)).toBeUndefined();
          seen.deadlocks++;
          return;
        }
        const result = await acquire();
        if (!blocked) {
          expect(result).toEqual({ granted: true, locks: m.grantAll(id, unique, mode, ttl ?? m.ttl), conflicts: [] });
          m.pump();
        } else if (wait > 0) {
          const nextWaiter = {
            id: m.nextWaiterId++,
            agent: id,
            paths: unique,
            mode,
            ttl: ttl ?? m.ttl,
            deadline: m.now + wait,
          };
          m.waiters.push(nextWaiter);
          expect(result).toEqual({ waiting: nextWaiter.id });
        } else {
          expect("granted" in result && result.granted).toBe(false);
          expectValidConflicts(m, id, unique, mode, (result as AcquireResult).conflicts);
        }
      }),
    ),
  fc.nat({ max: 5 }).map((nth) =>
    command(`cancel(#${nth})`, async (m, r) => {
      m.settle();
      const id = r.runner.cancelTarget(nth);
      const waiter = m.waiters.find((w) => w.id === id);
      if (waiter !== undefined) {
        m.waiters = m.waiters.filter((w) => w !== waiter);
        m.outcomes.push({ id: waiter.id, kind: "cancelled" });
        m.pump();
      }
      expect(await r.runner.run({ kind: "cancel", nth })).toBe(waiter !== undefined);
    }),
  ),
  fc.tuple(ids, anyPath).map(([id, path]) =>
    command(`release(${id}, ${JSON.stringify(path)})`, async (m, r) => {
      const key = modelNormalize(path);
      const release = call(r, { kind: "release", agent: id, path });
      if (key === null) return expectThrows(release);
      m.settle();
      const held = m.locks.find((l) => l.agent === id && l.path === key);
      m.locks = m.locks.filter((l) => l !== held);
      m.pump();
      expect(await release()).toBe(held !== undefined);
    }),
  ),
  ids.map((id) =>
    command(`releaseAll(${id})`, async (m, r) => {
      m.settle();
      const mine = m.locks
        .filter((l) => l.agent === id)
        .map((l) => l.path)
        .sort();
      m.locks = m.locks.filter((l) => l.agent !== id);
      m.pump();
      expect(await r.runner.run({ kind: "releaseAll", agent: id })).toEqual(mine);
    }),
  ),
  paths.map((path) =>
    command(`forceRelease(${JSON.stringify(path)})`, async (m, r) => {
      const key = modelNormalize(path) as string;
      m.settle();
      const gone = m.locks.filter((l) => l.path === key).sort((a, b) => a.fence - b.fence);
      m.locks = m.locks.filter((l) => l.path !== key);
      m.pump();
      expect(await r.runner.run({ kind: "force", path })).toEqual(gone.map((l) => ({ path: key, agent_id: l.agent })));
    }),
  ),
  fc
    .tuple(ids, fc.option(fc.array(paths, { minLength: 1, maxLength: 3 }), { nil: undefined }), ttls)
    .map(([id, wanted, ttl]) =>
      command(`renew(${id}, ${JSON.stringify(wanted)}, ${ttl})`, async (m, r) => {
        m.settle();
        const keys =
          wanted === undefined
            ? m.locks
                .filter((l) => l.agent === id)
                .map((l) => l.path)
                .sort()
            : [...new Set(wanted.map((p) => modelNormalize(p) as string))];
        const renewed = [];
        const missing = [];
        for (const key of keys) {
          const lock = m.locks.find((l) => l.agent === id && l.path === key);
          if (lock === undefined) missing.push(key);
          else {
            lock.expiry = Math.max(lock.expiry, m.now + (ttl ?? m.ttl));
            renewed.push({ path: key, mode: lock.mode, fence: lock.fence, expires_at_ms: lock.expiry });
          }
        }
        if (renewed.length > 0) m.touch(id);
        expect(await r.runner.run({ kind: "renew", agent: id, paths: wanted, ttl })).toEqual({ renewed, missing });
      }),
    ),
  anyPath.map((path) =>
    command(`holder(${JSON.stringify(path)})`, async (m, r) => {
      const key = modelNormalize(path);
      const holder = call(r, { kind: "holder", path });
      if (key === null) return expectThrows(holder);
      m.settle();
      expect(m.acceptableHolders(0, key).has(await holder())).toBe(true);
    }),
  ),
  fc
    .tuple(fc.option(ids, { nil: undefined }), fc.array(paths, { minLength: 1, maxLength: 3 }), modes)
    .map(([id, wanted, mode]) =>
      command(`lockCheck(${id}, ${JSON.stringify(wanted)}, ${mode})`, async (m, r) => {
        m.settle();
        const keys = [...new Set(wanted.map((p) => modelNormalize(p) as string))];
        const conflicts = await r.runner.run({ kind: "check", agent: id, paths: wanted, mode });
        if (m.requestBlocked(id ?? 0, keys, mode)) expectValidConflicts(m, id ?? 0, keys, mode, conflicts);
        else expect(conflicts).toEqual([]);
      }),
    ),
  fc
    .tuple(
      fc.integer({ min: 0, max: 5 }),
      anyPath,
      ops,
      hashes,
      fc.nat({ max: 1_000 }),
      fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    )
    .map(([id, path, op, hash, size, fence]) =>
      command(`record(${id}, ${JSON.stringify(path)}, ${op}, fence ${fence})`, async (m, r) => {
        const key = modelNormalize(path);
        const record = call(r, { kind: "record", agent: id, path, op: op as "write", hash, size, fence });
        if (key === null) return expectThrows(record);
        m.settle();
        const valid =
          fence === undefined ||
          m.locks.some(
            (l) =>
              l.agent === id &&
              l.fence === fence &&
              l.mode === "exclusive" &&
              (key === l.path || key.startsWith(`${l.path}/`)),
          );
        if (!valid) return expectThrows(record, /stale|fence/);
        if (m.seq >= MAX) return expectThrows(record, /^the version seq counter/);
        if ((m.agents.get(id)?.edits ?? 0) >= MAX) return expectThrows(record, /^edit_count of agent/);
        expect(await record()).toBe(m.record(key, id, op, BigInt(hash).toString(), size));
      }),
    ),
  fc.tuple(fc.constantFrom("a", "b/c"), fc.integer({ min: 1, max: 260 })).map(([path, count]) =>
    command(`recordBurst(${path}, ${count})`, async (m, r) => {
      m.settle();
      for (let i = 0; i < count; i++) {
        const record = call(r, { kind: "record", agent: 1, path, size: i });
        if (m.seq >= MAX) return expectThrows(record, /^the version seq counter/);
        if ((m.agents.get(1)?.edits ?? 0) >= MAX) return expectThrows(record, /^edit_count of agent 1/);
        expect(await record()).toBe(m.record(path, 1, "write", "0", i));
      }
    }),
  ),
  fc
    .tuple(
      fc.oneof(fc.nat({ max: 30 }), fc.nat({ max: 600 })),
      fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    )
    .map(([seq, limit]) =>
      command(`changesSince(${seq}, ${limit})`, async (m, r) => {
        m.settle();
        expect(await r.runner.run({ kind: "changesSince", seq, limit })).toEqual(m.changesSince(seq, limit));
      }),
    ),
  fc.constant(
    command("reap()", async (m, r) => {
      m.settle();
      expect(await r.runner.run({ kind: "reap" })).toEqual(m.takeCrashed());
    }),
  ),
  fc.oneof(fc.constantFrom(1, 100, 1_000, 45_000), fc.integer({ min: 1, max: 60_000 })).map((timeout) =>
    command(`setTimeout(${timeout})`, async (m, r) => {
      m.settle();
      m.timeout = timeout;
      await r.runner.run({ kind: "setTimeout", ms: timeout });
    }),
  ),
  fc.constant(
    command("snapshot+restore", async (m, r) => {
      m.settle();
      const snapshot = JSON.parse(JSON.stringify(await r.reg.snapshot()));
      expect(snapshot.agents.next_id).toBe(m.nextId);
      expect(snapshot.agents.next_fence).toBe(m.nextFence);
      const fresh = new Registry({ now: () => r.store.now() });
      fresh.restore(snapshot);
      expect(fresh.snapshot()).toEqual(snapshot);
      await r.runner.run({ kind: "restore", format: "2", reap: true });
      expect(await r.reg.snapshot()).toEqual(fresh.snapshot());
      for (const w of m.waiters) m.outcomes.push({ id: w.id, kind: "agent_gone:restored" });
      m.waiters = [];
      m.takeCrashed();
    }),
  ),
];

/**
 * Acquires that hold and wait on few paths (directories and files, both modes) with long waits, so that cycles form.
 */
const dense = fc.constantFrom("a", "a/b", "a/c", "b", "c");
const waitHeavy = [
  fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.uniqueArray(dense, { minLength: 1, maxLength: 2 }), modes)
    .map(([id, wanted, mode]) =>
      command(`acquireWaiting(${id}, ${JSON.stringify(wanted)}, ${mode})`, async (m, r) => {
        m.settle();
        const blocked = m.requestBlocked(id, wanted, mode);
        const acquire = call(r, { kind: "acquire", agent: id, paths: wanted, mode, ttl: 1_000_000, wait: 1_000_000 });
        if (!blocked) {
          expect(await acquire()).toEqual({
            granted: true,
            locks: m.grantAll(id, wanted, mode, 1_000_000),
            conflicts: [],
          });
          m.pump();
        } else if (m.wouldDeadlock(id, wanted, mode)) {
          const error = (await thrown(acquire)) as DomainError;
          expect(error?.kind).toBe("deadlock");
          expect(
            m.cycleProblem(
              id,
              wanted,
              mode,
              error.data?.cycle as { agent_id: number; path: string; waits_for: number }[],
            ),
          ).toBeUndefined();
          seen.deadlocks++;
        } else {
          const waiter = {
            id: m.nextWaiterId++,
            agent: id,
            paths: wanted,
            mode,
            ttl: 1_000_000,
            deadline: m.now + 1_000_000,
          };
          m.waiters.push(waiter);
          expect(await acquire()).toEqual({ waiting: waiter.id });
        }
      }),
    ),
];

/**
 * Where a run's counters start: mostly at the beginning, sometimes within a few values of 2^53-1 (a "next" counter may
 * be 2^53: all used).
 */
const near = (start: number, last: number) =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(start) }, fc.constantFrom(last - 3, last - 1, last));
const starts = fc.record({
  nextId: near(1, MAX + 1),
  nextFence: near(1, MAX + 1),
  seq: near(0, MAX),
  waitId: near(1, MAX + 1),
  edits: fc.option(near(0, MAX), { nil: undefined }),
});

type Start = typeof starts extends fc.Arbitrary<infer T> ? T : never;

/** Counters where a fresh registry has them. */
const FRESH: Start = { nextId: 1, nextFence: 1, seq: 0, waitId: 1, edits: undefined };

/**
 * The saved state with these counters (and agent 1 with `edits` edits, when given), which the store loads at start:
 * no calls reach them. None when they are a fresh registry's.
 */
function savedAt(start: Start, model: ReferenceModel): SavedState | undefined {
  if (JSON.stringify(start) === JSON.stringify(FRESH)) return undefined;
  const agents =
    start.edits === undefined
      ? []
      : [
          {
            id: 1,
            name: "a",
            state: "active" as const,
            last_seen_ms: 0,
            edit_count: start.edits,
            locked_paths: {},
            lock_fences: {},
            shared_paths: [],
          },
        ];
  const snapshot: Snapshot = {
    format_version: 2,
    taken_at_ms: 0,
    config: { default_lock_ttl_ms: model.ttl, agent_timeout_ms: model.timeout },
    agents: { next_id: start.nextId, next_fence: start.nextFence, agents },
    versions: { current_seq: start.seq, history: {} },
  };
  return {
    format: STATE_FORMAT,
    generation: 0,
    options: processOptionsOf({}),
    waits: { next_id: start.waitId, waits: [] },
    delayed: [],
    crashedSinceReap: [],
    lastEventSeq: 0,
    snapshot,
  };
}

/** Opens the store of each run. */
type Stores = ReturnType<typeof storeSeries>;

/** A store and the model, both with these counters (and agent 1 with `edits` edits, when given). */
async function startAt(stores: Stores, start: Start): Promise<{ model: ReferenceModel; real: Real }> {
  const model = new ReferenceModel();
  const store = await stores({ saved: savedAt(start, model), closeAfterTest: false });
  model.nextId = Math.max(start.nextId, start.edits === undefined ? 1 : 2);
  model.nextFence = start.nextFence;
  model.seq = start.seq;
  model.nextWaiterId = start.waitId;
  if (start.edits !== undefined) model.agents.set(1, { name: "a", state: "active", lastSeen: 0, edits: start.edits });
  const real: Real = {
    store,
    reg: store.reg,
    outcomes: [],
    runner: new StepRunner(store.reg, {
      advance: (ms) => store.setTime(store.now() + ms),
      onOutcome: (id, outcome) => recordOutcome(real)(id, outcome),
    }),
  };
  return { model, real };
}

/**
 * Run `cmds` from `start` on a store of its own, closed after. Then another process opening the state (a replay of the
 * directory, a second PostgreSQL sidecar) finds what the store holds.
 */
async function runOn(stores: Stores, start: Start, cmds: Iterable<Cmd>): Promise<void> {
  const setup = await startAt(stores, start);
  try {
    await fc.asyncModelRun(() => setup, cmds);
    const held = await setup.real.reg.snapshot();
    const reopened = await setup.real.store.reopened();
    if (reopened !== undefined) expect(reopened, "the state as another process opens it").toEqual(held);
  } finally {
    await setup.real.store.close();
  }
}

/**
 * Histories per property and store: MODEL_RUNS (default 200) in memory, a quarter of it in a state directory, 7.5% on
 * PostgreSQL (15 by default: a round trip per call, about 0.5 to 1 s a history on a loaded machine; the property's
 * database emptied before each history). MODEL_RUNS=2000 runs 150 a property there.
 */
const RUN_SHARE: Record<CoreStoreKind, number> = { memory: 1, directory: 1 / 4, postgres: 0.075 };
const runsOf = (kind: CoreStoreKind) =>
  Math.max(1, Math.round(Number(process.env.MODEL_RUNS ?? 200) * RUN_SHARE[kind]));

/** Up to 3 s a history on PostgreSQL (on a loaded machine), and never less than 2 minutes. */
const timeoutOf = (kind: CoreStoreKind) => Math.max(120_000, runsOf(kind) * 3_000);

describe.each(CORE_STORES)("model-based: core vs reference model, %s state", (kind) => {
  it(
    "agrees on random timed histories of locks, modes, directories, fences and waits, " +
      "from counters anywhere up to 2^53-1",
    async () => {
      const stores = storeSeries(kind);
      await fc.assert(
        fc.asyncProperty(starts, fc.commands(commands, { maxCommands: 200, size: "max" }), (start, cmds) =>
          runOn(stores, start, cmds),
        ),
        { numRuns: runsOf(kind) },
      );
    },
    timeoutOf(kind),
  );

  it(
    "refuses a wait as a deadlock exactly when the brute-force waits-for graph finds a cycle, " +
      "on histories dense in waits",
    async () => {
      const before = seen.deadlocks;
      const stores = storeSeries(kind);
      await fc.assert(
        fc.asyncProperty(
          fc.commands(
            [...commands, ...waitHeavy, ...waitHeavy, ...waitHeavy, ...waitHeavy, ...waitHeavy, ...waitHeavy],
            {
              maxCommands: 120,
              size: "max",
            },
          ),
          (cmds) => runOn(stores, FRESH, cmds),
        ),
        { numRuns: runsOf(kind) },
      );
      expect(seen.deadlocks - before, "the histories reach deadlock refusals").toBeGreaterThan(0);
    },
    timeoutOf(kind),
  );
});
