// Deadlock refusal with --state: state.json keeps the pending waits across
// a compaction, a replay puts them back into the wait index (so a refused
// request replays as refused, and the same request is refused again on the
// replayed registry), and after a restart (which cancels the waits nobody
// is left to hear) the rule holds on the new waits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import type { Registry } from "../../src/core/registry.js";
import type { StoreApi } from "../../src/storage/store-ops.js";
import { replayStateDir } from "../../src/storage/durable-state.js";
import { PinnedClock } from "../../src/storage/pinned-clock.js";
import { journalFile, readStateDir } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";
import { tempDir } from "../support/temp-dir.js";

const WAIT = 1_000_000;
const options = (now: () => number) => ({
  now,
  config: { default_lock_ttl_ms: 10_000_000, agent_timeout_ms: 10_000_000 },
});
const CYCLE = [
  { agent_id: 2, path: "src/main.rs", waits_for: 1 },
  { agent_id: 1, path: "docs", waits_for: 2 },
];

/** The cycle `store`'s agent 2 closes by waiting for src/main.rs (it must be refused). */
function refusedCycle(store: Pick<StoreApi, "acquire"> | Registry): unknown {
  try {
    store.acquire({ agentId: 2, paths: ["src/main.rs"], waitMs: WAIT }, () => {});
  } catch (error) {
    if (error instanceof DomainError && error.kind === "deadlock") return error.data?.cycle;
    throw error;
  }
  throw new Error("the acquire was not refused");
}

/**
 * Agent 1 shares src and waits for docs, held by agent 2 under docs/a.md; agent 3 waits for src/x behind agent 1's
 * share.
 */
function waitsOf(store: Pick<StoreApi, "acquire">): void {
  expect(store.acquire({ agentId: 1, paths: ["docs"], waitMs: WAIT }, () => {})).toHaveProperty("waiting");
  expect(store.acquire({ agentId: 3, paths: ["src/x"], waitMs: WAIT }, () => {})).toHaveProperty("waiting");
}

describe("deadlock refusal with --state", () => {
  it(
    "keeps the waits in state.json across a compaction, " +
      "refuses the same request on the replayed registry, and holds after a restart",
    async () => {
      const dir = tempDir("harn-deadlock-");
      let now = 1_000;
      const first = await openState(
        dir,
        options(() => now),
        400,
      );
      first.store.acquire({ agentId: 1, paths: ["src"], mode: "shared" });
      first.store.acquire({ agentId: 2, paths: ["docs/a.md"] });
      waitsOf(first.store);
      await first.journal.flushed();
      // The journal passed 400 bytes: the compaction's state.json holds both waits; the refusal goes to the next
      // journal.
      now = 2_000;
      expect(refusedCycle(first.store)).toEqual(CYCLE);
      const live = first.store.registry;
      const liveWaits = live.saveWaits();
      expect(liveWaits.waits.map((wait) => [wait.agentId, wait.paths])).toEqual([
        [1, ["docs"]],
        [3, ["src/x"]],
      ]);
      await first.close();

      const read = readStateDir(dir);
      expect(read.saved?.generation).toBe(1);
      expect(read.saved?.waits).toEqual(liveWaits);
      const journal = readFileSync(join(dir, journalFile(1)), "utf8");
      expect(journal).toContain('"op":"acquire"');
      expect(journal).toContain('"src/main.rs"');

      const replayed = replayStateDir(
        read,
        new PinnedClock(() => now),
        options(() => now),
      ).registry;
      expect(replayed.saveWaits()).toEqual(liveWaits);
      expect(replayed.snapshot()).toEqual(live.snapshot());
      expect(replayed.lockInfo("docs")?.waiters).toBe(1);
      expect(refusedCycle(replayed)).toEqual(CYCLE);

      // A restart cancels the waits (nobody is left to hear them): nothing waits, so the same request now waits.
      now = 3_000;
      const second = await openState(
        dir,
        options(() => now),
        400,
      );
      expect(second.store.registry.saveWaits().waits).toEqual([]);
      expect(second.store.listLocks().map((lock) => [lock.path, lock.agent_id])).toEqual([
        ["docs/a.md", 2],
        ["src", 1],
      ]);
      const queued = second.store.acquire({ agentId: 2, paths: ["src/main.rs"], waitMs: WAIT }, () => {});
      expect(queued).toHaveProperty("waiting");
      second.store.cancelWait((queued as { waiting: number }).waiting);
      // The rule holds on waits made after the restart, and across the next replay.
      waitsOf(second.store);
      expect(refusedCycle(second.store)).toEqual(CYCLE);
      await second.journal.flushed();
      expect(refusedCycle(second.store)).toEqual(CYCLE);
      const secondWaits = second.store.registry.saveWaits();
      await second.close();
      const again = replayStateDir(
        readStateDir(dir),
        new PinnedClock(() => now),
        options(() => now),
      ).registry;
      expect(again.saveWaits()).toEqual(secondWaits);
      expect(again.snapshot()).toEqual(second.store.registry.snapshot());
      expect(refusedCycle(again)).toEqual(CYCLE);
    },
  );
});
