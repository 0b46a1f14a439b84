// Snapshots as files and journal entries: read losslessly (u64 hashes as
// bare numbers), written with their path maps in code-unit order.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Registry } from "../../src/core/registry.js";
import { STATE_FORMAT, readStateDir } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";
import { INDEX_LIKE_PATHS, mapsOutOfOrder } from "../support/index-like-paths.js";
import { tempDir } from "../support/temp-dir.js";

const FNV_OFFSET = "14695981039346656037";

/**
 * A state.json of generation 0 (and its empty journal) whose snapshot holds one change of `a` with the FNV offset basis
 * as its hash.
 */
function stateDirWithHash(bare: boolean, waitsNextId = 1): string {
  const dir = tempDir("harn-snapfile-");
  const registry = new Registry({ now: () => 1_000 });
  registry.recordVersion({ agentId: 0, path: "a", hash: FNV_OFFSET });
  const saved = {
    format: STATE_FORMAT,
    generation: 0,
    options: registry.processOptions(),
    waits: { next_id: waitsNextId, waits: [] },
    delayed: [],
    snapshot: registry.snapshot(),
  };
  const text = JSON.stringify(saved);
  writeFileSync(join(dir, "state.json"), bare ? text.replace(`"hash":"${FNV_OFFSET}"`, `"hash":${FNV_OFFSET}`) : text);
  writeFileSync(join(dir, "journal.0.ndjson"), "");
  return dir;
}

describe("state.json is read by the one lossless snapshot reader", () => {
  it("keeps a u64 hash written as a bare number exact, as restore does", async () => {
    const dir = stateDirWithHash(true);
    expect(readStateDir(dir).saved?.snapshot.versions.history.a?.[0]?.hash).toBe(BigInt(FNV_OFFSET));
    const state = await openState(dir, { now: () => 2_000 });
    expect(state.store.changesSince(0)[0]?.hash).toBe(FNV_OFFSET);
    await state.close();
  });

  it("gives the counters beside the snapshot as numbers, 2^53 included", async () => {
    const dir = stateDirWithHash(false, 2 ** 53);
    expect(readStateDir(dir).saved?.waits.next_id).toBe(2 ** 53);
    const state = await openState(dir, { now: () => 2_000 });
    expect(state.store.registry.saveWaits().next_id).toBe(2 ** 53);
    await state.close();
  });
});

/**
 * A registry (or store) holding integer-like paths: locks of agent 1, a shared lock set of agent 2, a change of each
 * path.
 */
function holdIndexLikePaths(store: Pick<Registry, "tryLock" | "recordVersion" | "acquire">): void {
  for (const path of INDEX_LIKE_PATHS) {
    store.tryLock(1, path, 60_000 + path.length);
    store.recordVersion({ agentId: 2, path, hash: FNV_OFFSET });
  }
  store.acquire({ agentId: 2, paths: ["3", "20", "b"], mode: "shared" });
}

describe("snapshots written to the state directory keep code-unit order, integer-like paths included", () => {
  it("state.json written by compaction", async () => {
    const dir = tempDir("harn-snapfile-");
    const state = await openState(dir, { now: () => 1_000 }, 1);
    holdIndexLikePaths(state.store);
    await state.close();
    const text = readFileSync(join(dir, "state.json"), "utf8");
    const saved = JSON.parse(text);
    expect(saved.generation).toBeGreaterThan(0);
    expect(Object.keys(saved.snapshot.versions.history)).toHaveLength(INDEX_LIKE_PATHS.length);
    expect(mapsOutOfOrder(text, saved.snapshot)).toEqual([]);
    const again = await openState(dir, { now: () => 1_000 });
    expect(JSON.stringify(again.store.snapshot())).toBe(JSON.stringify(state.store.snapshot()));
    await again.close();
  });

  it("a restore's journal entry, and the state a restart rebuilds from it", async () => {
    const source = new Registry({ now: () => 1_000 });
    holdIndexLikePaths(source);
    const snapshot = JSON.parse(JSON.stringify(source.snapshot()));
    const dir = tempDir("harn-snapfile-");
    const state = await openState(dir, { now: () => 1_000 });
    state.store.restore(snapshot);
    await state.journal.flushed();
    const journal = readdirSync(dir).find((name) => name.startsWith("journal.")) as string;
    const line = readFileSync(join(dir, journal), "utf8")
      .split("\n")
      .find((each) => each.includes('"op":"restore"')) as string;
    expect(mapsOutOfOrder(line, snapshot)).toEqual([]);
    const written = JSON.stringify(state.store.snapshot());
    expect(written).toBe(JSON.stringify(source.snapshot()));
    await state.close();
    const again = await openState(dir, { now: () => 1_000 });
    expect(JSON.stringify(again.store.snapshot())).toBe(written);
    await again.close();
  });
});
