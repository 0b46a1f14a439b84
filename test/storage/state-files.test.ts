// The journal's line format, reading a state directory (a last line cut
// by a crash dropped, anything else damaged refused without touching the
// file), and the one-writer lock.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { chainSeed, checkLine, encodeLine } from "../../src/storage/journal-line.js";
import { Registry } from "../../src/core/registry.js";
import { StateFileError } from "../../src/storage/state-error.js";
import { STATE_FORMAT, readStateDir } from "../../src/storage/state-files.js";
import { lockStateDir } from "../../src/storage/writer-lock.js";
import { openState } from "../support/durable.js";
import { entryJson, journalLines } from "../support/journal-lines.js";
import type { Json } from "../support/wire-frames.js";
import { tempDir } from "../support/temp-dir.js";

const fresh = () => tempDir("harn-state-");

/** A journal's text: the lines of these entries (JSON texts), chained from the seed of `generation`. */
const journal = (generation: number, ...jsons: string[]) => journalLines(jsons, generation).join("");
/** The line that follows `before` (entries of a journal of `generation`) in its chain. */
const lineAfter = (generation: number, before: string[], json: string) =>
  journalLines([...before, json], generation).at(-1) as string;
const tryA = entryJson(1000, "tryLock", [1, "a", null]);
const beat2 = entryJson(1001, "heartbeat", [2]);
const beat3 = entryJson(1002, "heartbeat", [3]);
/** A state.json of `generation` holding the empty state. */
function savedText(generation: number): string {
  const registry = new Registry({ now: () => 900 });
  const saved = { format: STATE_FORMAT, generation, options: registry.processOptions(), waits: registry.saveWaits() };
  return JSON.stringify({ ...saved, delayed: [], snapshot: registry.snapshot() });
}

const fail = (error: Error) => {
  throw error;
};
const open = (dir: string) => openState(dir, { now: () => 5_000 });

describe("journal lines", () => {
  it("carry a CRC-32 that catches any change to the JSON", () => {
    const { text: line, crc } = encodeLine('{"t":1,"op":"tick","a":[]}', chainSeed(0));
    expect(line).toMatch(/^[0-9a-f]{8} \{"t":1,"op":"tick","a":\[\]\}\n$/);
    expect(checkLine(line.slice(0, -1), chainSeed(0))).toEqual({ text: '{"t":1,"op":"tick","a":[]}', crc });
    expect(checkLine(line.slice(0, -1).replace('"t":1', '"t":2'), chainSeed(0))).toBeUndefined();
    expect(checkLine(line.slice(0, 20), chainSeed(0))).toBeUndefined();
    expect(checkLine(`zzzzzzzz ${line.slice(9, -1)}`, chainSeed(0))).toBeUndefined();
  });

  it(
    "form a chain: a line checks only after the line it was written after, " + "and only in its generation's journal",
    () => {
      const [first, second] = journalLines([tryA, beat2], 0) as [string, string];
      const firstCrc = checkLine(first.slice(0, -1), chainSeed(0))?.crc as number;
      expect(checkLine(second.slice(0, -1), firstCrc)?.text).toBe(beat2);
      expect(checkLine(second.slice(0, -1), chainSeed(0))).toBeUndefined();
      expect(checkLine(first.slice(0, -1), chainSeed(1))).toBeUndefined();
    },
  );
});

describe("a journal whose lines were moved, repeated, dropped or copied from another journal", () => {
  const [l1, l2, l3, l4] = journalLines([tryA, beat2, beat3, entryJson(1003, "heartbeat", [4])], 0) as [
    string,
    string,
    string,
    string,
  ];
  it.each([
    ["two lines swapped", l2 + l1 + l3, "line 1"],
    ["a line repeated", l1 + l2 + l2 + l3, "line 3"],
    ["the last line repeated", l1 + l2 + l3 + l3, "line 4"],
    ["a line dropped before others", l1 + l3 + l4, "line 2"],
    ["the first line dropped", l2 + l3, "line 1"],
    ["another generation's journal", journal(1, tryA, beat2), "line 1"],
  ])("is refused (%s), naming the line", async (_what, content, line) => {
    const dir = fresh();
    const path = join(dir, "journal.0.ndjson");
    writeFileSync(path, content);
    await expect(open(dir)).rejects.toThrow(`${path} ${line}: fails its checksum`);
    expect(readFileSync(path, "utf8")).toBe(content);
  });
});

describe("reading a state directory", () => {
  const good = journal(0, tryA, beat2);
  const third = lineAfter(0, [tryA, beat2], beat3);
  /** A whole line whose checksum no longer matches. */
  const flipped = third.replace("[3]", "[4]");

  it.each([
    ["a last line without its newline", third.slice(0, -1)],
    ["a last line cut short", third.slice(0, 25)],
  ])("treats %s in the newest journal as torn: dropped at start, the file cut back", async (_what, tail) => {
    const dir = fresh();
    writeFileSync(join(dir, "journal.0.ndjson"), good + tail);
    const read = readStateDir(dir);
    expect(read.journals[0]?.entries.map((e) => e.op)).toEqual(["tryLock", "heartbeat"]);
    expect(read.journals[0]?.tornBytes).toBe(Buffer.byteLength(tail));
    const state = await open(dir);
    expect(state.recovered.tornBytes).toBe(Buffer.byteLength(tail));
    expect(state.store.lockHolder("a")).toBe(1);
    await state.close();
    expect(readFileSync(join(dir, "journal.0.ndjson"), "utf8").startsWith(good)).toBe(true);
  });

  it("treats a cut last line as torn in the newest journal written, when the newer one is still empty", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "state.json"), savedText(3));
    writeFileSync(
      join(dir, "journal.3.ndjson"),
      journal(3, tryA, beat2) + lineAfter(3, [tryA, beat2], beat3).slice(0, 20),
    );
    writeFileSync(join(dir, "journal.4.ndjson"), "");
    const state = await open(dir);
    expect(state.recovered).toEqual({ generation: 4, entries: 2, tornBytes: 20 });
    expect(state.store.lockHolder("a")).toBe(1);
    await state.close();
    expect(readFileSync(join(dir, "journal.3.ndjson"), "utf8")).toBe(journal(3, tryA, beat2));
  });

  it.each([
    ["a bad checksum before the last line", good.replace('"a"', '"b"') + third, "line 1: fails its checksum"],
    ["a last line whose checksum fails (it has its newline)", good + flipped, "line 3: fails its checksum"],
    ["a line cut short that kept its newline", good.slice(0, 30) + good.slice(-20), "line 1: fails its checksum"],
    ["NUL bytes after the last line", `${good}${"\0".repeat(40)}`, "line 3: holds NUL bytes"],
    ["a bad line followed by NUL bytes", `${good}${flipped}${"\0".repeat(9)}`, "line 3: fails its checksum"],
    ["a zeroed journal", "\0".repeat(good.length), "line 1: holds NUL bytes"],
    ["NUL bytes inside a line", good.replace('"a"', '"\0"'), "line 1: holds NUL bytes"],
    ["a valid checksum over text that is not JSON", journal(0, "{nope") + good, "line 1: is not JSON"],
    [
      "an entry naming an unknown operation",
      journal(0, tryA, beat2, entryJson(1002, "dropTables", []), entryJson(1003, "heartbeat", [5])),
      'line 3: names an unknown operation "dropTables"',
    ],
    [
      "an entry that is not {t, op, a}",
      journal(0, '{"t":"x","op":"tick","a":[]}') + good,
      "line 1: is not a {t, op, a} entry",
    ],
  ])("refuses %s, naming file and line, and leaves the file as it was", async (_what, content, problem) => {
    const dir = fresh();
    const path = join(dir, "journal.0.ndjson");
    writeFileSync(path, content);
    await expect(open(dir)).rejects.toThrow(StateFileError);
    await expect(open(dir)).rejects.toThrow(`${path} ${problem}`);
    await expect(open(dir)).rejects.toThrow(/; the file was left as it is$/);
    expect(readFileSync(path, "utf8")).toBe(content);
  });

  it("refuses a cut line in a journal older than one written to (a crash cuts only the last write)", () => {
    const dir = fresh();
    writeFileSync(join(dir, "state.json"), savedText(3));
    writeFileSync(
      join(dir, "journal.3.ndjson"),
      journal(3, tryA, beat2) + lineAfter(3, [tryA, beat2], beat3).slice(0, 20),
    );
    writeFileSync(join(dir, "journal.4.ndjson"), journal(4, entryJson(1003, "heartbeat", [4])));
    expect(() => readStateDir(dir)).toThrow(
      `${join(dir, "journal.3.ndjson")} line 3: has no newline, and cannot be a write cut by a crash: ` +
        "not in the newest journal written",
    );
  });

  it("refuses a state.json that is not JSON or not ours, and leaves it as it was", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "state.json"), '{"format":"harn-registry-state/1","generation":1');
    await expect(open(dir)).rejects.toThrow(`${join(dir, "state.json")}: is not valid JSON`);
    writeFileSync(join(dir, "state.json"), '{"format":"other"}');
    await expect(open(dir)).rejects.toThrow(`${join(dir, "state.json")}: is not a harn-registry-state/1 file`);
    expect(readFileSync(join(dir, "state.json"), "utf8")).toBe('{"format":"other"}');
  });

  it("replays journals from the snapshot's generation on, and drops older ones", async () => {
    const dir = fresh();
    const first = await open(dir);
    first.store.tryLock(1, "kept");
    await first.close();
    const second = await openState(dir, { now: () => 6_000 }, 1);
    second.store.tryLock(2, "also");
    await second.close();
    expect(existsSync(join(dir, "state.json"))).toBe(true);
    const read = readStateDir(dir);
    expect(read.saved?.generation).toBeGreaterThan(0);
    expect(read.stale).toEqual([]);
    appendFileSync(join(dir, "journal.0.ndjson"), "garbage from an old generation\n");
    const third = await open(dir);
    expect(third.store.listLocks().map((lock) => lock.path)).toEqual(["also", "kept"]);
    await third.close();
    expect(existsSync(join(dir, "journal.0.ndjson"))).toBe(false);
  });
});

describe("one writer per state directory", () => {
  it.each(["linux", "darwin"] as const)(
    "refuses a second writer while the first runs, naming its pid, and frees the directory on close (%s)",
    async (platform) => {
      const dir = fresh();
      const first = await lockStateDir(dir, fail, platform);
      expect(readFileSync(join(dir, "writer.pid"), "utf8")).toBe(`${process.pid}\n`);
      const refusal = `${dir} is in use by process ${process.pid}; stop that process or use another --state`;
      await expect(lockStateDir(dir, fail, platform)).rejects.toThrow(refusal);
      first();
      expect(existsSync(join(dir, "writer.pid"))).toBe(false);
      (await lockStateDir(dir, fail, platform))();
    },
  );

  it("takes the same directory by any path that leads to it", async () => {
    const dir = fresh();
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    onTestFinished(() => rmSync(link));
    const release = await lockStateDir(dir, fail);
    await expect(lockStateDir(`${link}/.`, fail)).rejects.toThrow(`${link}/. is in use by process ${process.pid}`);
    release();
  });

  it("is not held back on Linux by what a dead writer left (its writer.pid, an old writer.lock)", async () => {
    const dir = fresh();
    const dead = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    mkdirSync(join(dir, "writer.lock"));
    writeFileSync(join(dir, "writer.pid"), dead.stdout);
    const state = await open(dir);
    expect(readFileSync(join(dir, "writer.pid"), "utf8")).toBe(`${process.pid}\n`);
    await state.close();
  });
});

describe("a state.json whose snapshot does not restore", () => {
  it.each([
    ["a drive path", (snapshot: Json) => (snapshot.agents.agents[0].locked_paths = { "C:x": 99_000 })],
    ["a repeated agent id", (snapshot: Json) => snapshot.agents.agents.push(snapshot.agents.agents[0])],
    ["a bad version entry", (snapshot: Json) => (snapshot.versions.history.a = [{ seq: 0 }])],
  ])("is refused naming the file and the field (%s), and left as it is", async (_what, damage) => {
    const dir = tempDir("harn-state-");
    const first = await openState(dir, { now: () => 1_000 }, 1);
    first.store.tryLock(1, "a");
    first.store.recordVersion({ agentId: 1, path: "a" });
    await first.close();
    const file = join(dir, "state.json");
    const saved = JSON.parse(readFileSync(file, "utf8"));
    damage(saved.snapshot);
    writeFileSync(file, JSON.stringify(saved));
    const before = readFileSync(file, "utf8");
    await expect(openState(dir, { now: () => 1_000 })).rejects.toThrow(
      new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: snapshot\\.`),
    );
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
