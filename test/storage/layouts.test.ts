// Which state directories load. A real directory is compacted once, with
// its generation-0 files kept by hard links, so that every layout a crash
// can leave at each step of the compaction is built from real files: each
// loads, holding everything its journals acknowledged. Every other layout
// is refused, naming what is missing. And a table over files × damage
// (removed, cut, zeroed) after a clean close and after a crash: each
// directory either recovers everything acknowledged or is refused with a
// message naming the damaged file, and is left as it was.
import { linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryOptions } from "../../src/core/registry.js";
import { openDurableState } from "../../src/storage/durable-state.js";
import { encodeLine } from "../../src/storage/journal-line.js";
import { StateFileError } from "../../src/storage/state-error.js";
import { openState } from "../support/durable.js";

/** The files of a state directory, by short name. */
const NAMES = {
  state: "state.json",
  tmp: "state.json.tmp",
  j0: "journal.0.ndjson",
  j1: "journal.1.ndjson",
  j2: "journal.2.ndjson",
  j3: "journal.3.ndjson",
  closed: "closed.json",
  pid: "writer.pid",
} as const;
type FileName = keyof typeof NAMES;
type Layout = Partial<Record<FileName, string | Buffer>>;

const END = 60_000;
let now = 1_000;
const options = (): RegistryOptions => ({
  now: () => now,
  crashLockDelayMs: 300,
  config: { default_lock_ttl_ms: 40_000, agent_timeout_ms: 90_000 },
});

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory, removed once the file's tests are done (the shared files are made before any test). */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "harn-layout-"));
  scratchDirs.push(dir);
  return dir;
}

/** A new directory holding `layout`. */
function directory(layout: Layout): string {
  const dir = scratch();
  for (const [name, content] of Object.entries(layout)) writeFileSync(join(dir, NAMES[name as FileName]), content);
  return dir;
}

/** Every file of a directory and its bytes, but writer.pid (the writer lock's, rewritten by every starter). */
function contents(dir: string): Record<string, Buffer> {
  const names = readdirSync(dir).filter((name) => name !== NAMES.pid);
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(dir, name))]));
}

/** Open (recover) a directory holding `layout` at END, and the state it holds. */
async function recovered(layout: Layout) {
  now = END;
  const state = await openState(directory(layout), options());
  const registry = state.store.registry;
  // The events since the compaction's snapshot, under the same numbers whichever files the recovery replayed.
  const events = registry.events.since(JSON.parse(f.s1.toString()).lastEventSeq);
  const held = {
    snapshot: registry.snapshot(),
    crashedSinceReap: registry.saveCrashedSinceReap(),
    latestEvent: registry.events.latestSeq,
    events,
  };
  await state.close();
  return held;
}

/**
 * The files of a directory compacted once: state.json and journal 0 as the
 * compaction found them (kept by hard links), and state.json, journal 1 and
 * closed.json after its writer closed.
 */
async function compactedOnce() {
  const dir = scratch();
  const kept = scratch();
  now = 1_000;
  const first = await openState(dir, options());
  for (let i = 0; i < 40; i++) first.store.tryLock(1 + (i % 4), `src/f${i}`);
  first.store.acquire({ agentId: 5, paths: ["src/f1"], waitMs: 30_000 }, () => {});
  first.store.recordVersion({ path: "src/f2", agentId: 3, hash: "18446744073709551615" });
  first.store.crashAgents([4]);
  await first.close();
  linkSync(join(dir, NAMES.j0), join(kept, NAMES.j0));
  linkSync(join(dir, NAMES.state), join(kept, NAMES.state));
  now = 2_000;
  const second = await openState(dir, options(), statSync(join(dir, NAMES.j0)).size + 1);
  await second.journal.flushed();
  second.store.releaseLock(1, "src/f0");
  second.store.tryLock(6, "docs");
  second.store.recordVersion({ path: "docs", agentId: 6, hash: "7" });
  second.store.acquire({ agentId: 7, paths: ["docs"], mode: "shared", waitMs: 30_000 }, () => {});
  await second.close();
  expect(readdirSync(dir).sort()).toEqual([NAMES.closed, NAMES.j1, NAMES.state]);
  const read = (folder: string, name: string) => readFileSync(join(folder, name));
  return {
    s0: read(kept, NAMES.state),
    j0: read(kept, NAMES.j0),
    s1: read(dir, NAMES.state),
    j1: read(dir, NAMES.j1),
    closed: read(dir, NAMES.closed),
  };
}

let f: Awaited<ReturnType<typeof compactedOnce>>;
/** What the directory held when the compaction took its snapshot, and once its writer closed. */
let atCompaction: Awaited<ReturnType<typeof recovered>>;
let atClose: Awaited<ReturnType<typeof recovered>>;

beforeAll(async () => {
  f = await compactedOnce();
  expect(JSON.parse(f.s0.toString()).generation).toBe(0);
  expect(JSON.parse(f.s1.toString()).generation).toBe(1);
  expect(f.j1.length).toBeGreaterThan(0);
  atCompaction = await recovered({ state: f.s1, j1: "" });
  atClose = await recovered({ state: f.s1, j1: f.j1 });
  expect(atClose).not.toEqual(atCompaction);
});

describe("a crash at each step of a compaction", () => {
  const cut = Buffer.from(encodeLine(JSON.stringify({ t: 2_000, op: "heartbeat", a: [9] }), 0).text.slice(0, 30));
  it.each<[string, () => Layout, () => unknown]>([
    ["before journal 1 is made", () => ({ state: f.s0, j0: f.j0 }), () => atCompaction],
    ["journal 1 made, nothing in it", () => ({ state: f.s0, j0: f.j0, j1: "" }), () => atCompaction],
    [
      "journal 1 made, the last write to journal 0 cut",
      () => ({ state: f.s0, j0: Buffer.concat([f.j0, cut]), j1: "" }),
      () => atCompaction,
    ],
    ["lines in journal 1, state.json not replaced yet", () => ({ state: f.s0, j0: f.j0, j1: f.j1 }), () => atClose],
    [
      "state.json.tmp half written",
      () => ({ state: f.s0, tmp: f.s1.subarray(0, 100), j0: f.j0, j1: f.j1 }),
      () => atClose,
    ],
    ["state.json replaced, journal 0 not removed yet", () => ({ state: f.s1, j0: f.j0, j1: f.j1 }), () => atClose],
    ["journal 0 removed", () => ({ state: f.s1, j1: f.j1 }), () => atClose],
    ["state.json of generation 0 lost (it holds the empty state)", () => ({ j0: f.j0, j1: f.j1 }), () => atClose],
  ])("%s: loads, with everything acknowledged", async (_step, layout, expected) => {
    expect(await recovered(layout())).toEqual(expected());
  });
});

describe("a layout no writer leaves", () => {
  const generation5 = () => JSON.stringify({ ...JSON.parse(f.s1.toString()), generation: 5 });
  it.each<[string, () => Layout, string]>([
    [
      "journal 1 without state.json",
      () => ({ j1: f.j1 }),
      "state.json is missing: DIR/journal.1.ndjson follows the snapshot",
    ],
    [
      "journals 1 and 2 without state.json",
      () => ({ j1: f.j1, j2: "" }),
      "state.json is missing: DIR/journal.1.ndjson",
    ],
    [
      "journals 0 and 2 without state.json",
      () => ({ j0: f.j0, j2: f.j1 }),
      "journal.1.ndjson is missing, between journal.0.ndjson",
    ],
    [
      "state.json of generation 0 alone",
      () => ({ state: f.s0 }),
      "journal.0.ndjson is missing: DIR/state.json is of generation 0",
    ],
    [
      "state.json of generation 1, journal 0 only",
      () => ({ state: f.s1, j0: f.j0 }),
      "journal.1.ndjson is missing: DIR/state.json",
    ],
    ["state.json of generation 1, journal 2", () => ({ state: f.s1, j2: f.j1 }), "journal.1.ndjson is missing"],
    [
      "a gap after state.json's journal",
      () => ({ state: f.s1, j1: f.j1, j3: "" }),
      "journal.2.ndjson is missing, between",
    ],
    ["state.json newer than every journal", () => ({ state: generation5(), j1: f.j1 }), "journal.5.ndjson is missing"],
    [
      "closed.json naming a journal older than the newest",
      () => ({ state: f.s1, j1: f.j1, j2: "", closed: f.closed }),
      "closed.json: its writer closed journal.1.ndjson last, but the newest journal is journal.2.ndjson",
    ],
  ])("%s: refused, naming what is missing, left as it was", async (_what, layout, message) => {
    const dir = directory(layout());
    const before = contents(dir);
    await expect(openState(dir, options())).rejects.toThrow(StateFileError);
    await expect(openState(dir, options())).rejects.toThrow(message.replaceAll("DIR", dir));
    expect(contents(dir)).toEqual(before);
  });
});

type Damage = "removed" | "cut in half" | "zeroed" | "a line cut inside, its newline kept";

/** `content` damaged; undefined when removed. */
function damaged(content: Buffer, damage: Damage): Buffer | undefined {
  if (damage === "removed") return undefined;
  if (damage === "cut in half") return content.subarray(0, Math.floor(content.length / 2));
  if (damage === "zeroed") return Buffer.alloc(content.length);
  const secondLine = content.indexOf(0x0a) + 1;
  return Buffer.concat([content.subarray(0, secondLine + 20), content.subarray(content.indexOf(0x0a, secondLine))]);
}

describe("files × damage", () => {
  const cleanClose = (): Layout => ({ state: f.s1, j1: f.j1, closed: f.closed });
  const crash = (): Layout => ({ state: f.s1, j1: f.j1, pid: "2147483646\n" });
  it.each<[string, FileName, Damage, "recovers" | "refused", () => Layout]>([
    ["clean close", "state", "removed", "refused", cleanClose],
    ["clean close", "state", "cut in half", "refused", cleanClose],
    ["clean close", "state", "zeroed", "refused", cleanClose],
    ["clean close", "j1", "removed", "refused", cleanClose],
    ["clean close", "j1", "cut in half", "refused", cleanClose],
    ["clean close", "j1", "zeroed", "refused", cleanClose],
    ["clean close", "j1", "a line cut inside, its newline kept", "refused", cleanClose],
    ["clean close", "closed", "removed", "recovers", cleanClose],
    ["clean close", "closed", "cut in half", "refused", cleanClose],
    ["clean close", "closed", "zeroed", "refused", cleanClose],
    ["crash", "state", "removed", "refused", crash],
    ["crash", "state", "cut in half", "refused", crash],
    ["crash", "state", "zeroed", "refused", crash],
    ["crash", "j1", "removed", "refused", crash],
    ["crash", "j1", "zeroed", "refused", crash],
    ["crash", "j1", "a line cut inside, its newline kept", "refused", crash],
    ["crash", "pid", "removed", "recovers", crash],
    ["crash", "pid", "cut in half", "recovers", crash],
    ["crash", "pid", "zeroed", "recovers", crash],
  ])("after a %s, %s %s: %s", async (_when, name, damage, outcome, base) => {
    const { [name]: original, ...others } = base();
    const content = damaged(Buffer.from(original ?? ""), damage);
    const layout: Layout = content === undefined ? others : { ...others, [name]: content };
    if (outcome === "recovers") {
      expect(await recovered(layout)).toEqual(atClose);
      return;
    }
    const dir = directory(layout);
    const before = contents(dir);
    await expect(openState(dir, options())).rejects.toThrow(StateFileError);
    await expect(openState(dir, options())).rejects.toThrow(join(dir, NAMES[name]));
    expect(contents(dir)).toEqual(before);
  });

  it("after a crash, takes a journal cut inside its last line for a write cut by a crash, and logs it", async () => {
    const cutLast = f.j1.subarray(0, f.j1.length - 10);
    const dir = directory({ state: f.s1, j1: cutLast });
    const logged: string[] = [];
    const log = (line: string) => logged.push(line);
    const onFatal = (error: Error) => {
      throw error;
    };
    const state = await openDurableState({ dir, registry: options(), compactBytes: 1 << 30, log, onFatal });
    const torn = cutLast.length - cutLast.lastIndexOf(0x0a) - 1;
    expect(state.recovered.tornBytes).toBe(torn);
    expect(logged).toEqual([`${join(dir, NAMES.j1)}: dropped a torn last line (${torn} bytes) left by a crash`]);
    await state.close();
  });
});
