// One writer per --state directory, end to end: a second starter is
// refused while the first lives, the directory is free the moment the
// first is kill -9'd, and many starters racing for a directory whose writer
// was just kill -9'd end with exactly one writer, trial after trial.
import { afterEach, describe, expect, it } from "vitest";
import { RawSidecar } from "../support/sidecar-process.js";
import { tempDir } from "../support/temp-dir.js";

const sidecars: RawSidecar[] = [];
afterEach(() => {
  for (const sidecar of sidecars.splice(0)) sidecar.kill();
});

const start = (dir: string) => {
  const sidecar = new RawSidecar("ndjson", [`--state=${dir}`]);
  sidecars.push(sidecar);
  return sidecar;
};

const inUse = (dir: string, pid: number | undefined) =>
  `harn-registry: ${dir} is in use by process ${pid}; stop that process or use another --state\n`;

/** Whether the process became the writer (it answers) or was refused (it exits first; its stderr read to the end). */
async function outcome(sidecar: RawSidecar): Promise<"writer" | { code: number | null; stderr: string }> {
  const answered = sidecar.call(1, "current_seq").then(() => "writer" as const);
  const closed = new Promise<number | null>((resolve) => sidecar.child.once("close", resolve));
  const exited = closed.then((code) => ({ code, stderr: sidecar.stderr }));
  return Promise.race([answered, exited]);
}

describe("one writer per --state directory", () => {
  it("refuses a second starter while the first lives, and is free right after the first is kill -9'd", async () => {
    const dir = tempDir("harn-lock-");
    const first = start(dir);
    expect(await outcome(first)).toBe("writer");
    const second = start(dir);
    expect(await outcome(second)).toEqual({ code: 1, stderr: inUse(dir, first.child.pid) });
    first.kill();
    await first.exited;
    expect(await outcome(start(dir))).toBe("writer");
  });

  it("lets exactly one of 8 simultaneous starters write, in 30 trials after a kill -9 of the writer", async () => {
    const dir = tempDir("harn-lock-");
    let writer = start(dir);
    expect(await outcome(writer)).toBe("writer");
    const failures: string[] = [];
    for (let trial = 0; trial < 30; trial++) {
      writer.kill();
      await writer.exited;
      const racers = Array.from({ length: 8 }, () => start(dir));
      const outcomes = await Promise.all(racers.map(outcome));
      const writers = racers.filter((_, i) => outcomes[i] === "writer");
      const refusals = outcomes.filter((result) => result !== "writer");
      const expected = { code: 1, stderr: inUse(dir, writers[0]?.child.pid) };
      if (writers.length !== 1 || refusals.some((result) => JSON.stringify(result) !== JSON.stringify(expected))) {
        const unexpected = refusals.filter((result) => JSON.stringify(result) !== JSON.stringify(expected));
        failures.push(`trial ${trial}: ${writers.length} writers; unexpected refusals ${JSON.stringify(unexpected)}`);
      }
      for (const racer of writers.slice(1)) racer.kill();
      if (writers[0] === undefined) break;
      writer = writers[0];
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
