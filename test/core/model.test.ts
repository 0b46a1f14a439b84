// Model-based test: random timed histories run against the real core and
// the reference model; every result and the full state are compared.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Registry } from "../../src/core/registry.js";
import { ReferenceModel, modelNormalize } from "../support/reference-model.js";

interface Real {
  reg: Registry;
  clock: { now: number };
}

type Cmd = fc.Command<ReferenceModel, Real>;

function command(label: string, run: (m: ReferenceModel, r: Real) => void): Cmd {
  return {
    check: () => true,
    run: (m, r) => {
      run(m, r);
      m.settle();
      expect(r.reg.listAgents()).toEqual(m.agentsView());
      expect(r.reg.listLocks()).toEqual(m.locksView());
      expect(r.reg.currentSeq()).toBe(m.seq);
    },
    toString: () => label,
  };
}

/** Run `real`; when the model says the input is invalid, expect a throw and no change. */
function expectRejected(call: () => unknown): void {
  expect(call).toThrow();
}

const ids = fc.integer({ min: 1, max: 6 });
const badIds = fc.constantFrom(0, -3, 1.5, Number.MAX_SAFE_INTEGER + 1);
const paths = fc.constantFrom("a", "./a", "a//b", "a/b", "b\\c", "b/c", "x/../a", "dir/./b/../c", "../esc", "/abs", "C:/x", "", ".");
const ttls = fc.option(fc.oneof(fc.constantFrom(1, 10, 100, 1_000, 30_000, 45_000), fc.integer({ min: 1, max: 60_000 })), { nil: undefined });
const steps = fc.oneof(fc.constantFrom(0, 1, 9, 10, 90, 99, 100, 1_000, 15_000, 29_999, 30_000, 44_999, 45_000, 45_001), fc.integer({ min: 0, max: 50_000 }));
const ops = fc.constantFrom("snapshot", "write", "replace_range", "insert_after", "delete_range", "patch", "delete");
const hashes = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String));

const commands = [
  steps.map((dt) =>
    command(`advance(${dt})`, (m, r) => {
      m.now += dt;
      r.clock.now = m.now;
    }),
  ),
  fc.string({ maxLength: 5 }).map((name) =>
    command(`register(${JSON.stringify(name)})`, (m, r) => {
      m.settle();
      const id = m.nextId;
      m.install(id, name);
      expect(r.reg.register(name)).toBe(id);
    }),
  ),
  fc.tuple(fc.oneof(ids, badIds), fc.string({ maxLength: 3 })).map(([id, name]) =>
    command(`registerWithId(${id})`, (m, r) => {
      if (!Number.isSafeInteger(id) || id < 1) return expectRejected(() => r.reg.registerWithId(id, name));
      m.settle();
      m.install(id, name);
      expect(r.reg.registerWithId(id, name)).toBe(id);
    }),
  ),
  fc.oneof(ids, badIds).map((id) =>
    command(`heartbeat(${id})`, (m, r) => {
      if (!Number.isSafeInteger(id) || id < 1) return expectRejected(() => r.reg.heartbeat(id));
      m.settle();
      if (m.agents.has(id)) m.touch(id);
      else m.install(id, `agent-${id}`);
      r.reg.heartbeat(id);
    }),
  ),
  ids.map((id) =>
    command(`unregister(${id})`, (m, r) => {
      m.settle();
      const existed = m.agents.delete(id);
      expect(r.reg.unregister(id)).toBe(existed);
    }),
  ),
  ids.map((id) =>
    command(`noteEdit(${id})`, (m, r) => {
      m.settle();
      const agent = m.agents.get(id);
      if (agent) {
        agent.edits++;
        m.touch(id);
      }
      r.reg.noteEdit(id);
    }),
  ),
  fc.tuple(fc.oneof({ weight: 5, arbitrary: ids }, { weight: 1, arbitrary: badIds }), paths, ttls).map(([id, path, ttl]) =>
    command(`tryLock(${id}, ${JSON.stringify(path)}, ${ttl})`, (m, r) => {
      const key = modelNormalize(path);
      if (key === null || !Number.isSafeInteger(id) || id < 1) return expectRejected(() => r.reg.tryLock(id, path, ttl));
      m.settle();
      expect(r.reg.tryLock(id, path, ttl)).toEqual(m.tryLock(id, key, ttl ?? m.ttl));
    }),
  ),
  fc.tuple(ids, paths).map(([id, path]) =>
    command(`release(${id}, ${JSON.stringify(path)})`, (m, r) => {
      const key = modelNormalize(path);
      if (key === null) return expectRejected(() => r.reg.releaseLock(id, path));
      m.settle();
      const agent = m.agents.get(id);
      const held = agent?.locks.delete(key) ?? false;
      expect(r.reg.releaseLock(id, path)).toBe(held);
    }),
  ),
  paths.map((path) =>
    command(`holder(${JSON.stringify(path)})`, (m, r) => {
      const key = modelNormalize(path);
      if (key === null) return expectRejected(() => r.reg.lockHolder(path));
      m.settle();
      expect(r.reg.lockHolder(path)).toBe(m.holder(key));
    }),
  ),
  fc.tuple(fc.integer({ min: 0, max: 6 }), paths, ops, hashes, fc.nat({ max: 1_000 })).map(([id, path, op, hash, size]) =>
    command(`record(${id}, ${JSON.stringify(path)}, ${op})`, (m, r) => {
      const key = modelNormalize(path);
      const input = { path, agentId: id, op: op as "write", hash, size };
      if (key === null) return expectRejected(() => r.reg.recordVersion(input));
      m.settle();
      expect(r.reg.recordVersion(input)).toBe(m.record(key, id, op, BigInt(hash).toString(), size));
    }),
  ),
  fc.tuple(fc.constantFrom("a", "b/c"), fc.integer({ min: 1, max: 260 })).map(([path, count]) =>
    command(`recordBurst(${path}, ${count})`, (m, r) => {
      m.settle();
      for (let i = 0; i < count; i++) expect(r.reg.recordVersion({ path, agentId: 1, size: i })).toBe(m.record(path, 1, "write", "0", i));
    }),
  ),
  fc.tuple(fc.oneof(fc.nat({ max: 30 }), fc.nat({ max: 600 })), fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined })).map(([seq, limit]) =>
    command(`changesSince(${seq}, ${limit})`, (m, r) => {
      m.settle();
      expect(r.reg.changesSince(seq, limit)).toEqual(m.changesSince(seq, limit));
    }),
  ),
  fc.constant(
    command("reap()", (m, r) => {
      expect(r.reg.reap()).toEqual(m.settle());
    }),
  ),
  fc.oneof(fc.constantFrom(1, 100, 1_000, 45_000), fc.integer({ min: 1, max: 60_000 })).map((timeout) =>
    command(`setTimeout(${timeout})`, (m, r) => {
      m.timeout = timeout;
      r.reg.setConfig({ agent_timeout_ms: timeout });
      m.settle();
    }),
  ),
  fc.constant(
    command("snapshot+restore", (m, r) => {
      m.settle();
      const snapshot = JSON.parse(JSON.stringify(r.reg.snapshot()));
      expect(snapshot.agents.next_id).toBe(m.nextId);
      const fresh = new Registry({ now: () => r.clock.now });
      fresh.restore(snapshot);
      expect(fresh.snapshot()).toEqual(snapshot);
      r.reg = fresh;
    }),
  ),
];

describe("model-based: core vs reference model", () => {
  it("agrees on random timed histories", () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 200, size: "max" }), (cmds) => {
        const clock = { now: 0 };
        const real: Real = { reg: new Registry({ now: () => clock.now }), clock };
        fc.modelRun(() => ({ model: new ReferenceModel(), real }), cmds);
      }),
      { numRuns: 200 },
    );
  });
});
