// Snapshots as files and journal entries: read losslessly (u64 hashes as
// bare numbers), written with their path maps in code-unit order.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Registry } from "../../src/core/registry.js";
import { STATE_FORMAT, readStateDir } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";
import { tempDir } from "../support/temp-dir.js";

const FNV_OFFSET = "14695981039346656037";

/** A state.json of generation 0 (and its empty journal) whose snapshot holds one change of `a` with the FNV offset basis as its hash. */
function stateDirWithHash(bare: boolean, waitsNextId = 1): string {
  const dir = tempDir("harn-snapfile-");
  const registry = new Registry({ now: () => 1_000 });
  registry.recordVersion({ agentId: 0, path: "a", hash: FNV_OFFSET });
  const saved = { format: STATE_FORMAT, generation: 0, options: registry.processOptions(), waits: { next_id: waitsNextId, waits: [] }, delayed: [], snapshot: registry.snapshot() };
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
