// One test (or more) per deliberate change from the seed.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InvalidInputError } from "../../src/core/errors.js";
import { normalizePath } from "../../src/core/paths.js";
import { modelNormalize } from "../support/reference-model.js";
import { manualRegistry } from "../support/manual-registry.js";

describe("time-driven state is evaluated eagerly", () => {
  it("a silent agent's lock is free for others without anyone calling reap", () => {
    const { reg, clock } = manualRegistry(0);
    reg.tryLock(1, "f", 1_000_000);
    clock.now = 45_001;
    expect(reg.tryLock(2, "f")).toEqual({ locked: true, holder: 2 });
    expect(reg.getAgent(1)?.state).toBe("crashed");
  });

  it("listings and status see crashes without reap", () => {
    const { reg, clock } = manualRegistry(0);
    reg.register("a");
    reg.tryLock(1, "f", 1_000_000);
    clock.now = 50_000;
    expect(reg.listAgents()).toEqual([
      { id: 1, name: "a", state: "crashed", last_seen_ms: 0, edit_count: 0, lock_count: 0 },
    ]);
    expect(reg.listLocks()).toEqual([]);
  });

  it("reap reports the agents crashed since the previous reap, once, whoever found them", () => {
    const { reg, clock } = manualRegistry(0);
    reg.register("a");
    reg.register("b");
    clock.now = 10_000;
    reg.heartbeat(2);
    clock.now = 50_000;
    expect(reg.listAgents()[0]?.state).toBe("crashed");
    expect(reg.reap()).toEqual([1]);
    expect(reg.reap()).toEqual([]);
    clock.now = 60_000;
    reg.tick();
    expect(reg.reap()).toEqual([2]);
  });

  it("an agent that crashes after its lock expired does not lose someone else's later lock", () => {
    const { reg, clock } = manualRegistry(0);
    reg.tryLock(1, "f", 10);
    clock.now = 20;
    reg.tryLock(2, "f", 1_000_000);
    clock.now = 46_000;
    expect(reg.lockHolder("f")).toBeNull();
    expect(reg.getAgent(1)?.state).toBe("crashed");
    expect(reg.getAgent(2)?.state).toBe("crashed");
  });

  it("does not depend on a clock that steps backwards", () => {
    const { reg, clock } = manualRegistry(1_000);
    reg.tryLock(1, "f", 100);
    clock.now = 2_000;
    expect(reg.lockHolder("f")).toBeNull();
    clock.now = 1_050;
    expect(reg.lockHolder("f")).toBeNull();
    expect(reg.now()).toBe(2_000);
  });
});

describe("a granted lock or a recorded edit is a sign of life", () => {
  it("a granted lock revives a crashed agent", () => {
    const { reg, clock } = manualRegistry(0);
    reg.register("a");
    clock.now = 50_000;
    expect(reg.getAgent(1)?.state).toBe("crashed");
    expect(reg.tryLock(1, "f").locked).toBe(true);
    expect(reg.getAgent(1)).toMatchObject({ state: "active", last_seen_ms: 50_000 });
    clock.now = 95_001;
    expect(reg.lockHolder("f")).toBeNull();
  });

  it("a recorded edit revives a crashed agent", () => {
    const { reg, clock } = manualRegistry(0);
    reg.register("a");
    clock.now = 50_000;
    reg.recordVersion({ path: "f", agentId: 1 });
    expect(reg.getAgent(1)).toMatchObject({ state: "active", last_seen_ms: 50_000, edit_count: 1 });
  });

  it("a refused lock is not a sign of life", () => {
    const { reg, clock } = manualRegistry(0);
    reg.tryLock(1, "f", 1_000_000);
    reg.register("b");
    clock.now = 40_000;
    reg.heartbeat(1);
    expect(reg.tryLock(2, "f").locked).toBe(false);
    clock.now = 45_001;
    expect(reg.getAgent(2)?.state).toBe("crashed");
  });
});

describe("expired locks are removed", () => {
  it("lock_count, listings and snapshots only show live locks", () => {
    const { reg, clock } = manualRegistry(0);
    reg.tryLock(1, "short", 10);
    reg.tryLock(1, "long", 1_000);
    clock.now = 10;
    expect(reg.listAgents()[0]?.lock_count).toBe(1);
    expect(reg.getAgent(1)?.locks).toEqual([{ path: "long", expires_at_ms: 1_000 }]);
    expect(reg.listLocks().map((l) => l.path)).toEqual(["long"]);
    expect(reg.snapshot().agents.agents[0]?.locked_paths).toEqual({ long: 1_000 });
  });
});

describe("paths are normalised", () => {
  it("treats ./src//a.rs, src/a.rs and src\\a.rs as the same lock", () => {
    const { reg } = manualRegistry(0);
    expect(reg.tryLock(1, "./src//a.rs").locked).toBe(true);
    expect(reg.tryLock(2, "src/a.rs")).toEqual({ locked: false, holder: 1 });
    expect(reg.tryLock(2, "src\\a.rs")).toEqual({ locked: false, holder: 1 });
    expect(reg.lockHolder("src/b/../a.rs")).toBe(1);
    expect(reg.listLocks()).toEqual([{ path: "src/a.rs", agent_id: 1, expires_at_ms: 30_000 }]);
    expect(reg.releaseLock(1, "src/./a.rs")).toBe(true);
  });

  it.each([
    ["", "must not be empty"],
    ["/etc/passwd", "absolute"],
    ["C:/x", "absolute"],
    ["c:\\x", "absolute"],
    ["C:x", "absolute"],
    ["z:", "absolute"],
    ["\\\\server\\share", "absolute"],
    ["../x", "climbs above the workspace root"],
    ["a/../../x", "climbs above the workspace root"],
    ["a\0b", "NUL"],
    [".", "workspace root itself"],
    ["x".repeat(4097), "longer than 4096 bytes"],
    ["é".repeat(2049), "longer than 4096 bytes"],
  ])("rejects %# and changes nothing", (path, problem) => {
    const { reg } = manualRegistry(0);
    const before = reg.snapshot();
    expect(() => reg.tryLock(1, path)).toThrow(problem);
    expect(() => reg.tryLock(1, path)).toThrow(InvalidInputError);
    expect(reg.snapshot()).toEqual(before);
  });

  it(
    "accepts exactly the paths whose normal form is relative, " +
      "and the normal form of any accepted path is accepted as itself",
    () => {
      const segment = fc.constantFrom(
        "a",
        "src",
        ".",
        "..",
        "",
        "C:",
        "c:x",
        "z:",
        "C:x",
        "a:b",
        "__proto__",
        "x\\y",
        "é",
      );
      fc.assert(
        fc.property(
          fc.array(segment, { minLength: 1, maxLength: 6 }),
          fc.constantFrom("/", "\\"),
          (segments, separator) => {
            const path = segments.join(separator);
            const expected = modelNormalize(path);
            let normal: string | null;
            try {
              normal = normalizePath(path);
            } catch (error) {
              expect(error).toBeInstanceOf(InvalidInputError);
              normal = null;
            }
            expect(normal, JSON.stringify(path)).toBe(expected);
            if (normal !== null) expect(normalizePath(normal)).toBe(normal);
          },
        ),
        { numRuns: 2_000 },
      );
    },
  );

  it.each(["./C:x", "a/../C:x", ".\\C:x", "./c:", "x/../c:/y"])(
    "refuses %s, which normalises to a drive path",
    (path) => {
      expect(() => normalizePath(path)).toThrow(/names a drive/);
    },
  );

  it("accepts a 4096-byte path", () => {
    const { reg } = manualRegistry(0);
    expect(reg.tryLock(1, "x".repeat(4096)).locked).toBe(true);
  });
});

describe("ids are integers from 1 to 2^53-1", () => {
  it.each([0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity, "1", null, 1n])(
    "rejects %s without changing anything",
    (id) => {
      const { reg } = manualRegistry(0);
      const before = reg.snapshot();
      for (const call of [
        () => reg.heartbeat(id as number),
        () => reg.registerWithId(id as number, "x"),
        () => reg.tryLock(id as number, "f"),
        () => reg.releaseLock(id as number, "f"),
        () => reg.unregister(id as number),
        () => reg.noteEdit(id as number),
        () => reg.getAgent(id as number),
      ]) {
        expect(call).toThrow(/agent_id must be an integer from 1 to 2\^53-1/);
      }
      expect(reg.snapshot()).toEqual(before);
    },
  );

  it("accepts 2^53-1 and then reports the id space exhausted on register", () => {
    const { reg } = manualRegistry(0);
    expect(reg.registerWithId(Number.MAX_SAFE_INTEGER, "last")).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => reg.register("one more")).toThrow(/^the agent id counter \(next_id\) is exhausted/);
  });

  it("rejects bad TTLs and config values", () => {
    const { reg } = manualRegistry(10);
    expect(() => reg.tryLock(1, "f", 0)).toThrow(/ttl_ms must be an integer from 1/);
    expect(() => reg.tryLock(1, "f", 2.5)).toThrow(/ttl_ms/);
    expect(() => reg.tryLock(1, "f", Number.MAX_SAFE_INTEGER)).toThrow(/past 2\^53-1/);
    expect(() => reg.setConfig({ agent_timeout_ms: 0 })).toThrow(/agent_timeout_ms/);
    expect(reg.listAgents()).toEqual([]);
  });
});
