// The journal entry format is frozen: test/fixtures/journal/every-op is a
// state directory without state.json whose journal, written by this
// sidecar, holds every journaled op (acquire with and without a wait,
// cancelWait, restore of a harn-hostlib snapshot, ticks, crashAgents, reap,
// configure, setConfig, ...). Replaying it must succeed entry by entry and
// give the committed state. Renaming an op, or changing the order or meaning
// of its arguments, breaks this test, as it would break every journal on
// disk (and the PostgreSQL log that will reuse the format).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Registry } from "../../src/core/registry.js";
import { replayStateDir } from "../../src/storage/durable-state.js";
import { replayEntry } from "../../src/storage/entries.js";
import { PinnedClock } from "../../src/storage/pinned-clock.js";
import { readStateDir } from "../../src/storage/state-files.js";
import { JOURNALED_OPS } from "../../src/storage/store-ops.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/journal/every-op", import.meta.url));
const EXPECTED = JSON.parse(readFileSync(`${FIXTURE}.expected.json`, "utf8"));

/** What a replay rebuilt: the snapshot and what the state file keeps beside it. */
function stateOf(registry: Registry) {
  return {
    snapshot: registry.snapshot(),
    waits: registry.saveWaits(),
    delayed: registry.saveDelayed(),
    crashedSinceReap: registry.saveCrashedSinceReap(),
  };
}

describe("the journal entry format", () => {
  const read = readStateDir(FIXTURE);
  const entries = read.journals.flatMap((journal) => journal.entries);
  const end = entries.at(-1)?.t ?? 0;

  it("has a fixture covering every journaled op, acquire both with and without a wait", () => {
    expect(read.saved).toBeUndefined();
    expect(new Set(entries.map((entry) => entry.op))).toEqual(new Set(JOURNALED_OPS));
    const acquires = entries.filter((entry) => entry.op === "acquire").map((entry) => entry.a[1]);
    expect(new Set(acquires)).toEqual(new Set([true, false]));
  });

  it("replays the fixture entry by entry without a failure, to the committed state", () => {
    const clock = new PinnedClock(() => end);
    const registry = new Registry({ now: clock.now });
    entries.forEach((entry, index) => {
      clock.pin(entry.t);
      expect(replayEntry(registry, entry), `line ${index + 1}: ${entry.op}`).toBeUndefined();
      clock.unpin();
    });
    expect(stateOf(registry)).toEqual(EXPECTED);
  });

  it("is what recovery replays", () => {
    const { registry } = replayStateDir(read, new PinnedClock(() => end), { now: () => end });
    expect(stateOf(registry)).toEqual(EXPECTED);
  });
});
