// Paths and names that are also members of Object.prototype (`__proto__`,
// `toString`, `constructor`, ...) are data like any other: through locks,
// acquires, the version log, snapshots, restores and the protocol schemas.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Count, recordOf } from "../../protocol/common.js";
import { methods } from "../../protocol/methods.js";
import { SnapshotInput } from "../../protocol/snapshot.js";
import { InvalidInputError } from "../../src/core/errors.js";
import { manualRegistry } from "../support/manual-registry.js";

/** Every own name of Object.prototype, alone and in nested paths. */
const protoNames = Object.getOwnPropertyNames(Object.prototype);
const protoName = fc.constantFrom(...protoNames);
const protoPath = fc.oneof(
  protoName,
  protoName.map((name) => `src/${name}`),
  protoName.map((name) => `${name}/x`),
  fc.tuple(protoName, protoName).map(([a, b]) => `${a}/${b}`),
);

/** JSON as the wire and the state files carry it: JSON.parse makes `__proto__` an own key. */
const throughJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe("keys named like Object.prototype members", () => {
  it("are locked, acquired, recorded, snapshotted and restored like any other path or name", () => {
    fc.assert(
      fc.property(fc.uniqueArray(protoPath, { minLength: 1, maxLength: 6 }), protoName, (paths, name) => {
        const { reg } = manualRegistry(1_000);
        const [first, ...rest] = paths as [string, ...string[]];
        expect(reg.register(name)).toBe(1);
        expect(reg.tryLock(1, first)).toEqual({ locked: true, holder: 1 });
        const shared = rest;
        if (shared.length > 0)
          expect(reg.acquire({ agentId: 1, paths: shared, mode: "shared" })).toMatchObject({ granted: true });
        paths.forEach((path, index) => {
          expect(reg.recordVersion({ agentId: 1, path, size: index })).toBe(index + 1);
        });
        expect(reg.changesSince(0).map((change) => change.path)).toEqual(paths);
        expect(reg.tryLock(2, first)).toEqual({ locked: false, holder: 1 });

        const snapshot = reg.snapshot();
        const agent = snapshot.agents.agents[0];
        expect(agent?.name).toBe(name);
        expect(Object.keys(agent?.locked_paths ?? {}).sort()).toEqual([first, ...shared].sort());
        expect(Object.keys(agent?.lock_fences ?? {}).sort()).toEqual([first, ...shared].sort());
        expect(agent?.shared_paths).toEqual([...shared].sort());
        expect(Object.keys(snapshot.versions.history).sort()).toEqual([...paths].sort());
        for (const map of [agent?.locked_paths, agent?.lock_fences, snapshot.versions.history])
          expect(Object.getPrototypeOf(map)).toBeNull();

        const { reg: restored } = manualRegistry(1_000);
        restored.restore(throughJson(snapshot));
        expect(restored.snapshot()).toEqual(snapshot);
        expect(JSON.stringify(restored.snapshot())).toBe(JSON.stringify(snapshot));
        expect(restored.tryLock(2, first)).toEqual({ locked: false, holder: 1 });
        expect(restored.lockHolder(first)).toBe(1);
        expect(restored.changesSince(0)).toEqual(reg.changesSince(0));
      }),
      { numRuns: 300 },
    );
  });

  it(
    "keeps a lock and a history on __proto__ in the snapshot, " +
      "so a restored registry still refuses the path to others",
    () => {
      const { reg } = manualRegistry(0);
      reg.tryLock(1, "__proto__");
      reg.recordVersion({ agentId: 1, path: "__proto__", hash: "7" });
      const snapshot = throughJson(reg.snapshot());
      expect(snapshot.agents.agents[0]?.locked_paths).toEqual(JSON.parse('{"__proto__": 30000}'));
      expect(Object.keys(snapshot.versions.history)).toEqual(["__proto__"]);
      const { reg: restored } = manualRegistry(0);
      expect(restored.restore(snapshot)).toEqual({ agents: 1, locks: 1, current_seq: 1 });
      expect(restored.tryLock(2, "__proto__")).toEqual({ locked: false, holder: 1 });
      expect(restored.changesSince(0)).toEqual([
        { path: "__proto__", seq: 1, agent_id: 1, op: "write", hash: "7", size: 0, timestamp_ms: 0 },
      ]);
    },
  );

  it.each(protoNames.filter((name) => name !== "__proto__"))(
    "does not take %s as a locked path of a snapshot that does not lock it",
    (name) => {
      const { reg } = manualRegistry(0);
      reg.tryLock(1, "a");
      const before = reg.snapshot();
      const spoilers: ((snapshot: any) => void)[] = [
        (snapshot) => snapshot.agents.agents[0].shared_paths.push(name),
        (snapshot) => (snapshot.agents.agents[0].lock_fences[name] = 1),
      ];
      for (const spoil of spoilers) {
        const broken = throughJson(before);
        spoil(broken);
        expect(() => reg.restore(broken)).toThrow(InvalidInputError);
        expect(reg.snapshot()).toEqual(before);
      }
    },
  );

  it("does not take an inherited member for a path's fence", () => {
    const { reg } = manualRegistry(0);
    const snapshot = throughJson(manualRegistry(0).reg.snapshot());
    snapshot.agents.agents = [
      {
        id: 1,
        name: "a",
        state: "active",
        last_seen_ms: 0,
        edit_count: 0,
        locked_paths: { toString: 9 },
        lock_fences: {},
        shared_paths: [],
      },
    ];
    expect(() => reg.restore(snapshot)).toThrow('snapshot.agents.agents[0].lock_fences has no entry for "toString"');
  });
});

describe("protocol records keyed by user strings", () => {
  const keyed = JSON.parse('{"__proto__": 1, "toString": 2, "constructor": 3, "hasOwnProperty": 4}');

  it("keep every own key, __proto__ included, in an object without a prototype", () => {
    const parsed = recordOf(Count).parse(keyed);
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.keys(parsed)).toEqual(["__proto__", "toString", "constructor", "hasOwnProperty"]);
    expect(parsed.__proto__).toBe(1);
  });

  it("name the key of a bad value, __proto__ included", () => {
    const parsed = methods.metrics.result.shape.requests.safeParse(JSON.parse('{"a": 1, "__proto__": -1}'));
    expect(parsed.error?.issues[0]?.path).toEqual(["__proto__"]);
  });

  it("keep a history on __proto__ and a restore's top-level keys", () => {
    const snapshot = throughJson(manualRegistry(0).reg.snapshot());
    snapshot.versions = JSON.parse(
      '{"current_seq": 1, "history": {"__proto__": ' +
        '[{"seq": 1, "agent_id": 0, "timestamp_ms": 0, "op": "write", "hash": "0", "size": 0}]}}',
    );
    expect(Object.keys(SnapshotInput.parse(snapshot).versions.history)).toEqual(["__proto__"]);
    const params = methods.restore.params.parse(JSON.parse('{"snapshot": {"__proto__": {"format_version": 2}}}'));
    expect(Object.getPrototypeOf(params.snapshot)).toBeNull();
    expect(Object.keys(params.snapshot)).toEqual(["__proto__"]);
  });
});
