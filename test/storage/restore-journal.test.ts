// What the journal keeps of a change is what the replay needs, never the raw
// input: a restore (and a version record) gives the same reply and leaves
// the same state in memory, with --state, and after a restart, whatever
// JSON-unfriendly input it was given (bare u64 numbers the reader turns into
// bigints, big numbers or deep nesting in sections restore ignores) and
// whichever format (ours 1 and 2, harn-hostlib's).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Registry, type RegistryOptions } from "../../src/core/registry.js";
import type { RegistryStore } from "../../src/core/store.js";
import { parseJson } from "../../src/transport/lossless-json.js";
import { openState } from "../support/durable.js";
import { tempDir } from "../support/temp-dir.js";

const U64 = "14695981039346656037";

/**
 * JSON text of `value` as a host sends it: each "<bare>N" string is
 * written as the bare number N, and "<nested>" as an object nested 20,000
 * deep (which JSON.stringify cannot write).
 */
function text(value: unknown): string {
  const nested = `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
  return JSON.stringify(value)
    .replace(/"<bare>(\d+)"/g, "$1")
    .replace('"<nested>"', nested);
}

const config = { default_lock_ttl_ms: 50_000, agent_timeout_ms: 90_000 };
const change = { seq: 3, agent_id: 1, timestamp_ms: 900, op: "write", hash: `<bare>${U64}`, size: 7 };
const history = { "src/a": [change] };
const smallHash = { ...change, hash: 1 };
const versions = { current_seq: 3, history };
const agent = (id: number, state: string, locked_paths: Record<string, number>) => ({
  id,
  name: `agent ${id}`,
  state,
  last_seen_ms: 950,
  edit_count: 2,
  locked_paths,
});
const one = agent(1, "active", { "src/a": 70_000, "./docs//b": 70_000 });
const crashed = agent(5, "crashed", { gone: 70_000 });
const fenced = { ...one, lock_fences: { "src/a": 31, "./docs//b": 32 }, shared_paths: ["./docs//b"] };

/** Restore inputs as a host sends them (JSON text, read by the server's reader). */
const inputs: [string, string][] = [
  [
    "format 2 with a bare u64 hash",
    text({
      format_version: 2,
      taken_at_ms: 1_000,
      config,
      agents: { next_id: 2, next_fence: 40, agents: [fenced] },
      versions,
    }),
  ],
  [
    "format 1 with a bare u64 hash and locks without fences (fresh ones from the running counter)",
    text({ format_version: 1, taken_at_ms: 1_000, config, agents: { next_id: 2, agents: [one, crashed] }, versions }),
  ],
  [
    "harn-hostlib with big numbers in ignored sections and fields",
    text({
      files: { size: "<bare>123456789012345678901234567890" },
      agents: { next_id: 0, extra: "<bare>98765432109876543210", agents: [one, crashed] },
      versions,
    }),
  ],
  [
    "harn-hostlib with a deeply nested ignored section",
    text({ index: "<nested>", agents: { agents: [one] }, versions: { current_seq: 3, history: { x: [smallHash] } } }),
  ],
  [
    "harn-hostlib with empty agents and versions sections beside ignored ones",
    text({ git_head: "abc", files: [{ a: { a: 1 } }], agents: {}, versions: {} }),
  ],
];

const options = (now: () => number): RegistryOptions => ({
  now,
  config: { default_lock_ttl_ms: 60_000, agent_timeout_ms: 120_000 },
});

/** Some state first (fences handed out, a waiter), the restore, a record with a bigint hash, a grant after it. */
function play(store: RegistryStore, clock: { now: number }, input: unknown, reap: boolean): unknown[] {
  clock.now = 1_000;
  store.tryLock(1, "x");
  store.tryLock(2, "y");
  store.releaseLock(1, "x");
  store.acquire({ agentId: 3, paths: ["y"], waitMs: 60_000 }, () => {});
  clock.now = 2_000;
  const restored = store.restore(input, { reap });
  const seq = store.recordVersion({ path: "src/b", agentId: 1, hash: BigInt(U64) });
  const granted = store.tryLock(7, "after");
  return [restored, seq, granted];
}

describe("restore with --state", () => {
  it.each(inputs.flatMap(([name, text]) => [true, false].map((reap) => [name, reap, text] as const)))(
    "%s (reap %s): same reply and state in memory, journaled, and after a restart",
    async (_name, reap, text) => {
      const clock = { now: 1_000 };
      const memory = new Registry(options(() => clock.now));
      const inMemory = play(memory, clock, parseJson(text), reap);

      const dir = tempDir("harn-restore-");
      const durable = await openState(
        dir,
        options(() => clock.now),
      );
      expect(play(durable.store, clock, parseJson(text), reap)).toEqual(inMemory);
      expect(durable.store.snapshot()).toEqual(memory.snapshot());
      await durable.close();

      const restarted = await openState(
        dir,
        options(() => clock.now),
      );
      expect(restarted.store.registry.snapshot()).toEqual(memory.snapshot());
      await restarted.close();
    },
  );
});

describe("a refused restore with --state", () => {
  it.each([
    ["an empty object", "{}", /^snapshot\.agents is required/],
    [
      "an object that is not a snapshot (a package.json)",
      '{"name":"x","version":"1.0.0","dependencies":{}}',
      /^snapshot\.agents is required/,
    ],
    [
      "harn-hostlib's agents without versions",
      '{"agents":{"next_id":1,"agents":[]}}',
      /^snapshot\.versions is required/,
    ],
    [
      "ours without agents",
      '{"format_version":2,"taken_at_ms":1,"config":{"default_lock_ttl_ms":1,"agent_timeout_ms":1},' +
        '"versions":{"current_seq":0,"history":{}}}',
      /^snapshot\.agents is required/,
    ],
  ])(
    "%s: nothing changes, nothing is journaled, and the restart sees the same state",
    async (_what, input, message) => {
      const clock = { now: 1_000 };
      const dir = tempDir("harn-restore-");
      const durable = await openState(
        dir,
        options(() => clock.now),
      );
      durable.store.tryLock(1, "kept");
      durable.store.recordVersion({ agentId: 1, path: "kept", hash: BigInt(U64) });
      await durable.journal.flushed();
      const files = () =>
        readdirSync(dir)
          .filter((name) => name !== "writer.pid")
          .map((name) => [name, readFileSync(join(dir, name), "utf8")]);
      const before = { snapshot: JSON.stringify(durable.store.snapshot()), files: files() };
      expect(() => durable.store.restore(parseJson(input))).toThrow(message);
      await durable.journal.flushed();
      expect({ snapshot: JSON.stringify(durable.store.snapshot()), files: files() }).toEqual(before);
      await durable.close();
      const restarted = await openState(
        dir,
        options(() => clock.now),
      );
      expect(JSON.stringify(restarted.store.registry.snapshot())).toBe(before.snapshot);
      await restarted.close();
    },
  );
});
