import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isIndexKey } from "../../src/core/dictionary.js";
import { InvalidInputError } from "../../src/core/errors.js";
import { INDEX_LIKE_PATHS, IN_CODE_UNIT_ORDER, mapsOutOfOrder } from "../support/index-like-paths.js";
import { manualRegistry } from "../support/manual-registry.js";

function busyRegistry() {
  const { reg, clock } = manualRegistry(1_000, { agent_timeout_ms: 10_000 });
  reg.register("editor");
  reg.register("helper");
  reg.tryLock(1, "src/b.rs", 5_000);
  reg.tryLock(1, "src/a.rs", 5_000);
  reg.tryLock(2, "README.md", 50_000);
  reg.recordVersion({ path: "src/a.rs", agentId: 1, op: "replace_range", hash: 18446744073709551615n, size: 10 });
  reg.recordVersion({ path: "README.md", agentId: 2, hash: "12", size: 2 });
  clock.now = 2_000;
  reg.registerWithId(9, "late");
  return { reg, clock };
}

describe("snapshot codec", () => {
  it("writes the documented shape, sorted", () => {
    const { reg } = busyRegistry();
    expect(reg.snapshot()).toEqual({
      format_version: 2,
      taken_at_ms: 2_000,
      config: { default_lock_ttl_ms: 30_000, agent_timeout_ms: 10_000 },
      agents: {
        next_id: 10,
        next_fence: 4,
        agents: [
          {
            id: 1,
            name: "editor",
            state: "active",
            last_seen_ms: 1_000,
            edit_count: 1,
            locked_paths: { "src/a.rs": 6_000, "src/b.rs": 6_000 },
            lock_fences: { "src/a.rs": 2, "src/b.rs": 1 },
            shared_paths: [],
          },
          {
            id: 2,
            name: "helper",
            state: "active",
            last_seen_ms: 1_000,
            edit_count: 1,
            locked_paths: { "README.md": 51_000 },
            lock_fences: { "README.md": 3 },
            shared_paths: [],
          },
          {
            id: 9,
            name: "late",
            state: "active",
            last_seen_ms: 2_000,
            edit_count: 0,
            locked_paths: {},
            lock_fences: {},
            shared_paths: [],
          },
        ],
      },
      versions: {
        current_seq: 2,
        history: {
          "README.md": [{ seq: 2, agent_id: 2, timestamp_ms: 1_000, op: "write", hash: "12", size: 2 }],
          "src/a.rs": [
            { seq: 1, agent_id: 1, timestamp_ms: 1_000, op: "replace_range", hash: "18446744073709551615", size: 10 },
          ],
        },
      },
    });
    expect(Object.keys(reg.snapshot().agents.agents[0]?.locked_paths ?? {})).toEqual(["src/a.rs", "src/b.rs"]);
  });

  it("adds the keys of its path maps in code-unit order, to objects without a prototype", () => {
    // Not integer-like keys: a JS object lists those ("9", "10") first whatever the order they were added in.
    const paths = ["b", "é", "B", "a/b", "a-b", "a.b", "_", "Z", "1a", "\u{1F600}", "\uFB01"];
    const { reg } = manualRegistry(0);
    for (const path of paths) {
      reg.tryLock(1, path);
      reg.recordVersion({ agentId: 1, path });
    }
    const sorted = [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const snapshot = reg.snapshot();
    const agent = snapshot.agents.agents[0];
    for (const map of [agent?.locked_paths, agent?.lock_fences, snapshot.versions.history]) {
      expect(Object.getPrototypeOf(map)).toBeNull();
      expect(Object.keys(map ?? {})).toEqual(sorted);
    }
  });

  it(
    "lists integer-like paths in code-unit order too, so JSON.stringify writes the documented order, " +
      "and snapshot → restore → snapshot stays byte-identical",
    () => {
      const { reg } = manualRegistry(0);
      for (const path of INDEX_LIKE_PATHS) {
        reg.tryLock(1, path, 60_000 + path.length);
        reg.recordVersion({ agentId: 1, path });
      }
      expect(reg.acquire({ agentId: 2, paths: ["3", "20", "b"], mode: "shared", ttlMs: 70_000 })).toMatchObject({
        granted: true,
      });
      const snapshot = reg.snapshot();
      const maps = [
        ...snapshot.agents.agents.flatMap((agent) => [agent.locked_paths, agent.lock_fences]),
        snapshot.versions.history,
      ];
      for (const map of maps) {
        expect(Object.getPrototypeOf(map)).toBeNull();
        expect(Object.keys(map)).toEqual([...Object.keys(map)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      expect(Object.keys(snapshot.versions.history)).toEqual(IN_CODE_UNIT_ORDER);
      expect(Object.keys(snapshot.agents.agents[1]?.locked_paths ?? {})).toEqual(["20", "3", "b"]);
      expect(snapshot.agents.agents[1]?.shared_paths).toEqual(["20", "3", "b"]);
      const text = JSON.stringify(snapshot);
      expect(mapsOutOfOrder(text, JSON.parse(text))).toEqual([]);
      expect(text).toContain(
        `"locked_paths":{"0":60001,"01":60002,"10":60002,"1a":60002,` +
          `"4294967294":60010,"4294967295":60010,"9":60001,"a":60001}`,
      );
      const { reg: other } = manualRegistry(0);
      other.restore(JSON.parse(text));
      expect(JSON.stringify(other.snapshot())).toBe(text);
      expect(JSON.stringify(other.prepareRestore(JSON.parse(text)).snapshot)).toBe(text);
    },
  );

  it("knows the keys a JS object lists first (array indexes) exactly as the engine does", () => {
    /** Whether the engine lists `key` before a key added earlier. */
    const listedFirst = (key: string) => {
      const object = Object.create(null);
      object["\u0000first"] = 1;
      object[key] = 1;
      return key !== "\u0000first" && Object.keys(object)[0] === key;
    };
    const near = [
      "0",
      "9",
      "10",
      "01",
      "00",
      "1a",
      "-1",
      "1.5",
      "1e3",
      " 1",
      "１",
      "4294967294",
      "4294967295",
      "4294967296",
      "9999999999",
      "99999999999",
      "",
    ];
    for (const key of near) expect(isIndexKey(key), key).toBe(listedFirst(key));
    const digits = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 12 });
    const around = fc.integer({ min: 4_294_967_200, max: 4_294_967_400 }).map(String);
    fc.assert(
      fc.property(fc.oneof(digits, around, fc.string()), (key) => {
        expect(isIndexKey(key), key).toBe(listedFirst(key));
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips snapshot → restore → snapshot identically, through JSON too", () => {
    const { reg } = busyRegistry();
    const first = reg.snapshot();
    const { reg: other } = manualRegistry(2_000);
    expect(other.restore(JSON.parse(JSON.stringify(first)))).toEqual({ agents: 3, locks: 3, current_seq: 2 });
    expect(JSON.stringify(other.snapshot())).toBe(JSON.stringify(first));
    expect(other.register("new")).toBe(10);
    expect(other.recordVersion({ path: "z", agentId: 0 })).toBe(3);
  });

  it("adopts the snapshot's config", () => {
    const { reg } = busyRegistry();
    const { reg: other } = manualRegistry(2_000);
    other.restore(reg.snapshot());
    expect(other.config()).toEqual({ default_lock_ttl_ms: 30_000, agent_timeout_ms: 10_000 });
  });

  it("reaps at the current time after restoring", () => {
    const { reg } = busyRegistry();
    const { reg: other } = manualRegistry(11_500);
    expect(other.restore(reg.snapshot())).toEqual({ agents: 3, locks: 0, current_seq: 2 });
    expect(other.listAgents().map((a) => [a.id, a.state])).toEqual([
      [1, "crashed"],
      [2, "crashed"],
      [9, "active"],
    ]);
  });

  it("drops expired locks on restore", () => {
    const { reg } = busyRegistry();
    const { reg: other } = manualRegistry(6_000);
    other.restore(reg.snapshot());
    expect(other.listLocks().map((l) => l.path)).toEqual(["README.md"]);
  });

  const bad: [string, (s: Record<string, any>) => void, RegExp][] = [
    ["a wrong format_version", (s) => (s.format_version = 3), /snapshot\.format_version must be 1 or 2, got 3/],
    [
      "a duplicate agent id",
      (s) => (s.agents.agents[1].id = 1),
      /snapshot\.agents\.agents\[1\]\.id repeats agent id 1/,
    ],
    ["an id of 0", (s) => (s.agents.agents[0].id = 0), /snapshot\.agents\.agents\[0\]\.id must be an integer from 1/],
    ["an unknown state", (s) => (s.agents.agents[0].state = "zombie"), /snapshot\.agents\.agents\[0\]\.state/],
    [
      "a path locked twice",
      (s) => {
        s.agents.agents[1].locked_paths["src/a.rs"] = 9_000;
        s.agents.agents[1].lock_fences["src/a.rs"] = 4;
        s.agents.next_fence = 5;
      },
      /snapshot\.agents\.agents\[1\]\.locked_paths\["src\/a\.rs"\] conflicts with a lock of agent 1 on "src\/a\.rs"/,
    ],
    [
      "a directory lock over another agent's file",
      (s) => {
        s.agents.agents[1].locked_paths.src = 9_000;
        s.agents.agents[1].lock_fences.src = 4;
        s.agents.agents[1].shared_paths.push("src");
        s.agents.next_fence = 5;
      },
      /locked_paths\["src"\] conflicts with a lock of agent 1 below "src"/,
    ],
    [
      "a lock without its fence",
      (s) => delete s.agents.agents[0].lock_fences["src/a.rs"],
      /lock_fences has no entry for "src\/a\.rs"/,
    ],
    [
      "a fence without its lock",
      (s) => (s.agents.agents[0].lock_fences["x.rs"] = 1),
      /lock_fences\["x\.rs"\] names a path missing from locked_paths/,
    ],
    [
      "a fence at or above next_fence",
      (s) => (s.agents.next_fence = 3),
      /agents\[1\]\.lock_fences\["README\.md"\] is 3, not below next_fence 3/,
    ],
    ["a repeated fence", (s) => (s.agents.agents[1].lock_fences["README.md"] = 2), /repeats fence 2/],
    [
      "a fence of 0",
      (s) => (s.agents.agents[1].lock_fences["README.md"] = 0),
      /lock_fences\["README\.md"\] must be a positive integer fence/,
    ],
    [
      "a shared path it does not lock",
      (s) => s.agents.agents[1].shared_paths.push("elsewhere"),
      /shared_paths\[0\] names "elsewhere", missing from locked_paths/,
    ],
    [
      "an absolute lock path",
      (s) => (s.agents.agents[0].locked_paths["/etc"] = 9),
      /locked_paths\["\/etc"\] must be relative/,
    ],
    [
      "a seq above current_seq",
      (s) => (s.versions.current_seq = 1),
      /history\["src\/a\.rs"\]\[0\]\.seq is 1|history\["README\.md"\]\[0\]\.seq is 2, above current_seq 1/,
    ],
    ["a repeated seq", (s) => (s.versions.history["README.md"][0].seq = 1), /repeats seq 1/],
    ["a bad hash", (s) => (s.versions.history["README.md"][0].hash = "-5"), /history\["README\.md"\]\[0\]\.hash/],
    ["an unknown op", (s) => (s.versions.history["README.md"][0].op = "move"), /\[0\]\.op/],
    ["an unknown key", (s) => (s.extra = true), /snapshot.*extra/i],
    ["a missing config", (s) => delete s.config, /snapshot\.config/],
    [
      "two history keys for one file",
      (s) => (s.versions.history["./README.md"] = []),
      /names the same file as "README\.md"/,
    ],
  ];
  it.each(bad)("rejects %s, naming the field, and changes nothing", (_label, spoil, message) => {
    const { reg } = busyRegistry();
    const good = reg.snapshot();
    const broken = JSON.parse(JSON.stringify(good));
    spoil(broken);
    const { reg: target } = busyRegistry();
    target.recordVersion({ path: "extra.rs", agentId: 0 });
    const before = target.snapshot();
    let error: unknown;
    try {
      target.restore(broken);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(String((error as Error).message)).toMatch(message);
    expect(target.snapshot()).toEqual(before);
  });

  it("rejects a non-object", () => {
    const { reg } = manualRegistry(0);
    expect(() => reg.restore([])).toThrow("snapshot must be an object");
    expect(() => reg.restore(null)).toThrow("snapshot must be an object");
  });

  it("accepts the agents and versions sections of a harn-hostlib snapshot.json", () => {
    const { reg } = manualRegistry(1_000);
    const hostlib = {
      version: 3,
      files: { "src/a.rs": { hash: 1 } },
      agents: {
        next_id: 3,
        agents: [
          {
            id: 1,
            name: "ide",
            state: "active",
            last_seen_ms: 900,
            edit_count: 4,
            locked_paths: { "src\\a.rs": 20_000 },
          },
          { id: 2, name: "bot", state: "crashed", last_seen_ms: 100, edit_count: 0, locked_paths: { "b.rs": 20_000 } },
          { id: 5, name: "old", state: "gone", last_seen_ms: 100 },
        ],
      },
      versions: {
        current_seq: 7,
        history: {
          "src/a.rs": [{ seq: 7, agent_id: 1, timestamp_ms: 800, op: "write", hash: 18446744073709551615n, size: 12 }],
        },
      },
    };
    expect(reg.restore(hostlib)).toEqual({ agents: 3, locks: 1, current_seq: 7 });
    expect(reg.lockHolder("src/a.rs")).toBe(1);
    expect(reg.lockHolder("b.rs")).toBeNull();
    expect(reg.register("next")).toBe(6);
    expect(reg.changesSince(0)[0]?.hash).toBe("18446744073709551615");
    expect(reg.config()).toEqual({ default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 });
  });

  it("fills serde defaults inside the sections of a sparse harn-hostlib snapshot", () => {
    const { reg } = manualRegistry(0);
    expect(reg.restore({ indexed_files: [], agents: {}, versions: {} })).toEqual({
      agents: 0,
      locks: 0,
      current_seq: 0,
    });
    expect(reg.register("a")).toBe(1);
  });

  it("a snapshot must carry its required sections to be restored, and a refused one changes nothing", () => {
    const { reg } = busyRegistry();
    const before = JSON.stringify(reg.snapshot());
    const ours = reg.snapshot();
    const hostlibHint =
      "is required: a snapshot without format_version is read as harn-hostlib's, " +
      "which must have its agents and versions sections";
    const refused: [unknown, string][] = [
      [{}, `snapshot.agents ${hostlibHint}`],
      [{ name: "harn-registry", version: "0.1.0", dependencies: {} }, `snapshot.agents ${hostlibHint}`],
      [{ agents: {} }, `snapshot.versions ${hostlibHint}`],
      [{ versions: {} }, `snapshot.agents ${hostlibHint}`],
      [{ agents: null, versions: {} }, "snapshot.agents must be an object"],
      [{ agents: {}, versions: [] }, "snapshot.versions must be an object"],
      [{ format_version: 2 }, "snapshot.taken_at_ms is required"],
      [{ ...ours, agents: undefined }, "snapshot.agents is required"],
      [
        { format_version: 2, taken_at_ms: 0, config: ours.config, agents: ours.agents },
        "snapshot.versions is required",
      ],
      [
        { format_version: 1, taken_at_ms: 0, config: ours.config, versions: ours.versions },
        "snapshot.agents is required",
      ],
    ];
    for (const [snapshot, message] of refused) {
      expect(() => reg.restore(snapshot), JSON.stringify(snapshot)).toThrow(message);
      expect(() => reg.prepareRestore(snapshot)).toThrow(message);
      expect(JSON.stringify(reg.snapshot())).toBe(before);
    }
  });

  it("rejects a hostlib hash that already lost precision as a JS number", () => {
    const { reg } = manualRegistry(0);
    const hostlib = {
      agents: {},
      versions: {
        current_seq: 1,
        history: { a: [{ seq: 1, agent_id: 0, timestamp_ms: 0, op: "write", hash: 2 ** 64, size: 0 }] },
      },
    };
    expect(() => reg.restore(hostlib)).toThrow(
      /snapshot\.versions\.history\.a\[0\]\.hash must be an unsigned 64-bit integer/,
    );
  });
});

describe("restore without reaping", () => {
  it("counts the snapshot's active agents as seen at the restore, so none crashes for old silence", () => {
    const { reg } = busyRegistry();
    const { reg: other, clock } = manualRegistry(11_500);
    expect(other.restore(reg.snapshot(), { reap: false })).toEqual({ agents: 3, locks: 1, current_seq: 2 });
    expect(other.listAgents().map((a) => [a.id, a.state, a.last_seen_ms])).toEqual([
      [1, "active", 11_500],
      [2, "active", 11_500],
      [9, "active", 11_500],
    ]);
    expect(other.listLocks().map((l) => l.path)).toEqual(["README.md"]);
    clock.now = 21_501;
    expect(other.reap()).toEqual([1, 2, 9]);
  });
});
