// A read-only view of a state directory judges time by its writer's clock:
// the wall clock for a --clock=system writer, the state's last recorded
// time for a --clock=manual one.
import { utimesSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastWrittenMs, stateClock } from "../../src/storage/state-clock.js";
import { type StateDirRead, readStateDir } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";
import { tempDir } from "../support/temp-dir.js";

const WALL = 1_800_000_000_000;

/** A directory read whose last record is at `t` (a journal entry), or its snapshot's time when `t` is undefined. */
function readWith(t: number | undefined, takenAtMs = 5): StateDirRead {
  const entries =
    t === undefined
      ? []
      : [
          { t: 0, op: "tick" as const, a: [] },
          { t, op: "tick" as const, a: [] },
        ];
  return {
    saved: { snapshot: { taken_at_ms: takenAtMs } } as StateDirRead["saved"],
    savedPath: "state.json",
    journals: [
      { generation: 0, path: "journal.0.ndjson", entries, goodBytes: 0, tornBytes: 0, chain: 0 },
      { generation: 1, path: "journal.1.ndjson", entries: [], goodBytes: 0, tornBytes: 0, chain: 0 },
    ],
    stale: [],
    closed: undefined,
  };
}

describe("the clock a view of a state directory judges time by", () => {
  it.each([
    ["a system writer's last record, written just after it", WALL - 200, WALL - 100, { kind: "system", nowMs: WALL }],
    [
      "a system writer's compaction, written a while after its snapshot",
      WALL - 70_000,
      WALL - 20_000,
      { kind: "system", nowMs: WALL },
    ],
    ["a system writer whose clock ran a little ahead", WALL + 5_000, WALL, { kind: "system", nowMs: WALL + 5_000 }],
    ["a manual writer's clock near 0", 30_000, WALL - 1_000, { kind: "manual", nowMs: 30_000 }],
    [
      "a manual writer's clock set to a time long past",
      WALL - 86_400_000,
      WALL - 1_000,
      { kind: "manual", nowMs: WALL - 86_400_000 },
    ],
    [
      "a manual writer's clock set to a time to come",
      WALL + 86_400_000,
      WALL - 1_000,
      { kind: "manual", nowMs: WALL + 86_400_000 },
    ],
  ])("%s", (_what, recorded, written, expected) => {
    expect(stateClock(readWith(recorded), written, WALL)).toEqual(expected);
  });

  it("takes the snapshot's time when no journal holds an entry, and the wall clock when nothing was recorded", () => {
    expect(stateClock(readWith(undefined, 7_000), WALL - 1_000, WALL)).toEqual({ kind: "manual", nowMs: 7_000 });
    expect(stateClock(readWith(undefined, WALL - 500), WALL - 400, WALL)).toEqual({ kind: "system", nowMs: WALL });
    expect(stateClock({ ...readWith(undefined), saved: undefined }, undefined, WALL)).toEqual({
      kind: "system",
      nowMs: WALL,
    });
  });

  it("reads when a real directory was last written: the newest of state.json and the journals", async () => {
    const dir = tempDir("harn-clock-");
    const state = await openState(dir, { now: Date.now });
    state.store.tryLock(1, "a");
    await state.close();
    expect(stateClock(readStateDir(dir), lastWrittenMs(dir), Date.now()).kind).toBe("system");
    const later = Date.now() + 3_600_000;
    utimesSync(join(dir, "state.json"), new Date(later - 1_000), new Date(later - 1_000));
    utimesSync(join(dir, "journal.0.ndjson"), new Date(later), new Date(later));
    utimesSync(join(dir, "closed.json"), new Date(later + 9_000), new Date(later + 9_000));
    expect(Math.abs((lastWrittenMs(dir) as number) - later)).toBeLessThan(2); // file times keep about a millisecond
    // Written an hour after the last time it records: not a system writer's record (a copy, or a manual clock).
    expect(stateClock(readStateDir(dir), lastWrittenMs(dir), Date.now()).kind).toBe("manual");
  });
});
