// Every fact of the core and the protocol is written once: these tests fail
// when a copy drifts from its source (the behaviour of both sides is
// compared) or when a copy reappears in the source text (a scan of
// protocol/*.ts and src/core/*.ts, comments left out, for the forms the
// copies used to take).
import { readFileSync, readdirSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentId, Fence, FencesByPath, LockMode, Millis, MillisByPath, NextCounter } from "../../protocol/common.js";
import {
  AGENT_ID_RANGE,
  DEFAULT_EDIT_OP,
  DEFAULT_LOCK_MODE,
  EVENTS_KEPT,
  MAX_ID,
  MAX_PATHS_PER_ACQUIRE,
} from "../../protocol/constants.js";
import { ReleaseReason, events } from "../../protocol/events.js";
import { methods } from "../../protocol/methods.js";
import { SnapshotAgentEntry } from "../../protocol/snapshot.js";
import { InvalidInputError } from "../../src/core/errors.js";
import { EventLog } from "../../src/core/events.js";
import { checkAgentId, checkMode, checkOp, checkPaths } from "../../src/core/validate.js";
import { jsonSchemaOf } from "../../scripts/protocol-files.js";
import { manualRegistry } from "../support/manual-registry.js";

/** The problem an InvalidInputError reports for `call`. */
function problemOf(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problem;
    throw error;
  }
  throw new Error("did not throw");
}

const pathList = (count: number) => Array.from({ length: count }, (_, i) => `p${i}`);

describe("one source for each fact", () => {
  it("MAX_PATHS_PER_ACQUIRE bounds the protocol's path lists and the core's alike", () => {
    for (const method of ["lock_acquire", "lock_check"] as const) {
      const params = methods[method].params;
      expect(params.safeParse({ agent_id: 1, paths: pathList(MAX_PATHS_PER_ACQUIRE) }).success, method).toBe(true);
      expect(params.safeParse({ agent_id: 1, paths: pathList(MAX_PATHS_PER_ACQUIRE + 1) }).success, method).toBe(false);
    }
    expect(
      methods.lock_renew.params.safeParse({ agent_id: 1, paths: pathList(MAX_PATHS_PER_ACQUIRE + 1) }).success,
    ).toBe(false);
    expect(checkPaths(pathList(MAX_PATHS_PER_ACQUIRE))).toHaveLength(MAX_PATHS_PER_ACQUIRE);
    expect(problemOf(() => checkPaths(pathList(MAX_PATHS_PER_ACQUIRE + 1)))).toBe(
      `must be a list of 1 to ${MAX_PATHS_PER_ACQUIRE} paths`,
    );
    const { reg } = manualRegistry();
    expect(reg.acquire({ agentId: 1, paths: pathList(MAX_PATHS_PER_ACQUIRE) })).toMatchObject({ granted: true });
  });

  it("the event log numbers every release reason of the protocol, and keeps EVENTS_KEPT events", () => {
    const log = new EventLog();
    for (const reason of ReleaseReason.options) log.released(1, "a", "exclusive", 1, reason, undefined, 0);
    expect(log.since(0).map((event) => event.type === "lock/released" && event.reason)).toEqual(ReleaseReason.options);
    for (let i = 0; i < EVENTS_KEPT + 5; i++) log.granted(1, "a", "shared", 1, 10, 0);
    expect(log.since(0)).toHaveLength(EVENTS_KEPT);
    expect(methods.events_since.description).toContain(`the last ${EVENTS_KEPT.toLocaleString("en-US")}`);
  });

  it("a counter in the registry/restored event has the snapshot's range (NextCounter)", () => {
    const params = events["registry/restored"].params;
    const event = { type: "registry/restored", agents: 0, locks: 0, current_seq: 0, event_seq: 1, at_ms: 0 };
    for (const next of [0, 1, MAX_ID, MAX_ID + 1, MAX_ID + 3, 1.5]) {
      const accepted = NextCounter.safeParse(next).success;
      expect(params.safeParse({ ...event, next_id: next, next_fence: next }).success, String(next)).toBe(accepted);
    }
  });

  it(
    "a snapshot's maps of fences and expiries accept exactly what Fence and Millis accept, " +
      "and say so in their JSON Schema",
    () => {
      const values = fc.oneof(
        fc.integer(),
        fc.constantFrom(0, 1, -1, MAX_ID, MAX_ID + 1, -MAX_ID, -MAX_ID - 1, 1.5, Number.NaN, Infinity),
      );
      fc.assert(
        fc.property(values, (value) => {
          expect(FencesByPath.safeParse({ a: value }).success).toBe(Fence.safeParse(value).success);
          expect(MillisByPath.safeParse({ a: value }).success).toBe(Millis.safeParse(value).success);
        }),
        { numRuns: 500 },
      );
      const entry = jsonSchemaOf(SnapshotAgentEntry, "output") as {
        properties: Record<string, { additionalProperties: unknown }>;
      };
      const { $schema: _fence, ...fence } = jsonSchemaOf(Fence, "output");
      const { $schema: _millis, ...millis } = jsonSchemaOf(Millis, "output");
      expect(entry.properties.lock_fences?.additionalProperties).toEqual(fence);
      expect(entry.properties.locked_paths?.additionalProperties).toEqual(millis);
    },
  );

  it("the core's checks say what the protocol's schemas say, with the same defaults", () => {
    expect(AgentId.safeParse(0).error?.issues[0]?.message).toBe(AGENT_ID_RANGE);
    expect(problemOf(() => checkAgentId(0))).toBe(`${AGENT_ID_RANGE}, got 0`);
    expect(problemOf(() => checkMode("read"))).toBe(`must be ${LockMode.options.join(" or ")}, got "read"`);
    for (const mode of LockMode.options) expect(checkMode(mode)).toBe(mode);
    expect(checkMode(undefined)).toBe(DEFAULT_LOCK_MODE);
    expect(checkOp(undefined)).toBe(DEFAULT_EDIT_OP);
    expect(methods.lock_acquire.params.parse({ agent_id: 1, paths: ["a"] }).mode).toBe(DEFAULT_LOCK_MODE);
    expect(methods.lock_check.params.parse({ paths: ["a"] }).mode).toBe(DEFAULT_LOCK_MODE);
    expect(methods.version_record.params.parse({ agent_id: 1, path: "a" }).op).toBe(DEFAULT_EDIT_OP);
  });
});

/** protocol/*.ts and src/core/*.ts without their comments, by file name. */
function sources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of ["protocol", "src/core"]) {
    for (const name of readdirSync(dir).filter((file) => file.endsWith(".ts"))) {
      const text = readFileSync(`${dir}/${name}`, "utf8");
      out.set(`${dir}/${name}`, text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""));
    }
  }
  return out;
}

/** The files whose text matches `pattern`. */
function filesMatching(pattern: RegExp): string[] {
  return [...sources()].filter(([, text]) => pattern.test(text)).map(([file]) => file);
}

describe("no copy of a fact reappears", () => {
  it("the conflict rule's test of two modes is written only in conflict-rule.ts", () => {
    expect(filesMatching(/[=!]== "(?:exclusive|shared)"\s*(?:\|\||&&)[^;\n]*[=!]== "(?:exclusive|shared)"/)).toEqual([
      "src/core/conflict-rule.ts",
    ]);
  });

  it("paths are compared by segments only in paths.ts, and tested for a conflict only in conflict-rule.ts", () => {
    expect(filesMatching(/\bpathsOverlap\(/)).toEqual(["src/core/conflict-rule.ts", "src/core/paths.ts"]);
    expect(filesMatching(/charCodeAt\([^)]*\) === (?:47|SLASH)\b|(?:lastIndexOf|indexOf)\("\/"/)).toEqual([
      "src/core/paths.ts",
    ]);
  });

  it("limits, release reasons, lock modes and the default agent name are written once", () => {
    expect(filesMatching(/\b256\b/)).toEqual(["protocol/constants.ts"]);
    expect(filesMatching(/10,000/)).toEqual([]);
    expect(filesMatching(/"unregistered",\s*"forced"|"forced",\s*"replaced"/)).toEqual(["protocol/constants.ts"]);
    expect(filesMatching(/"exclusive",\s*"shared"/)).toEqual(["protocol/constants.ts"]);
    expect(filesMatching(/`agent-\$\{/)).toEqual(["src/core/registry-data.ts"]);
    expect(filesMatching(/must be an integer from 1 to 2\^53-1/)).toEqual(["protocol/constants.ts"]);
  });
});
