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
import { StateFileError } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";


type Files = Record<string, string | Buffer>;

const fail = (error: Error) => {
  throw error;
};

const END = 60_000;
let now = 1_000;
const options = (): RegistryOptions => ({ now: () => now, crashLockDelayMs: 300, config: { default_lock_ttl_ms: 40_000, agent_timeout_ms: 90_000 } });

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

/** Write `files` into a new directory. */
function directory(files: Files): string {
  const dir = scratch();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Every file of a directory and its bytes, but writer.pid (the writer lock's, rewritten by every starter). */
function contents(dir: string): Record<string, Buffer> {
  const names = readdirSync(dir).filter((name) => name !== "writer.pid");
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(dir, name))]));
}

/** Open (recover) the directory at END, and the state it holds. */
async function recovered(files: Files) {
  now = END;
  const state = await openState(directory(files), options());
  const registry = state.store.registry;
  const held = { snapshot: registry.snapshot(), crashedSinceReap: registry.saveCrashedSinceReap() };
  await state.close();
  return held;
}

/** A state.json of another generation. */
function withGeneration(saved: Buffer, generation: number): string {
  return JSON.stringify({ ...JSON.parse(saved.toString()), generation });
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
  linkSync(join(dir, "journal.0.ndjson"), join(kept, "journal.0.ndjson"));
  linkSync(join(dir, "state.json"), join(kept, "state.json"));
  now = 2_000;
  const second = await openState(dir, options(), statSync(join(dir, "journal.0.ndjson")).size + 1);
  await second.journal.flushed();
  second.store.releaseLock(1, "src/f0");
  second.store.tryLock(6, "docs");
  second.store.recordVersion({ path: "docs", agentId: 6, hash: "7" });
  second.store.acquire({ agentId: 7, paths: ["docs"], mode: "shared", waitMs: 30_000 }, () => {});
  await second.close();
  expect(readdirSync(dir).sort()).toEqual(["closed.json", "journal.1.ndjson", "state.json"]);
  const read = (folder: string, name: string) => readFileSync(join(folder, name));
  return {
    s0: read(kept, "state.json"),
    j0: read(kept, "journal.0.ndjson"),
    s1: read(dir, "state.json"),
    j1: read(dir, "journal.1.ndjson"),
    closed: read(dir, "closed.json"),
  };
}

let files: Awaited<ReturnType<typeof compactedOnce>>;
/** What the directory holds when the compaction took its snapshot, and once its writer closed. */
let atCompaction: Awaited<ReturnType<typeof recovered>>;
let atClose: Awaited<ReturnType<typeof recovered>>;

beforeAll(async () => {
  files = await compactedOnce();
  expect(JSON.parse(files.s0.toString()).generation).toBe(0);
  expect(JSON.parse(files.s1.toString()).generation).toBe(1);
  expect(files.j1.length).toBeGreaterThan(0);
  atCompaction = await recovered({ "state.json": files.s1, "journal.1.ndjson": "" });
  atClose = await recovered({ "state.json": files.s1, "journal.1.ndjson": files.j1 });
  expect(atClose).not.toEqual(atCompaction);
});

describe("a crash at each step of a compaction", () => {
  const cut = encodeLine(JSON.stringify({ t: 2_000, op: "heartbeat", a: [9] })).slice(0, 30);
  it.each<[string, () => Files, () => unknown]>([
    ["before journal 1 is made", () => ({ "state.json": files.s0, "journal.0.ndjson": files.j0 }), () => atCompaction],
    ["journal 1 made, nothing in it", () => ({ "state.json": files.s0, "journal.0.ndjson": files.j0, "journal.1.ndjson": "" }), () => atCompaction],
    [
      "journal 1 made, the last write to journal 0 cut",
      () => ({ "state.json": files.s0, "journal.0.ndjson": Buffer.concat([files.j0, Buffer.from(cut)]), "journal.1.ndjson": "" }),
      () => atCompaction,
    ],
    ["lines in journal 1, state.json not replaced yet", () => ({ "state.json": files.s0, "journal.0.ndjson": files.j0, "journal.1.ndjson": files.j1 }), () => atClose],
    [
      "state.json.tmp half written",
      () => ({ "state.json": files.s0, "state.json.tmp": files.s1.subarray(0, 100), "journal.0.ndjson": files.j0, "journal.1.ndjson": files.j1 }),
      () => atClose,
    ],
    ["state.json replaced, journal 0 not removed yet", () => ({ "state.json": files.s1, "journal.0.ndjson": files.j0, "journal.1.ndjson": files.j1 }), () => atClose],
    ["journal 0 removed", () => ({ "state.json": files.s1, "journal.1.ndjson": files.j1 }), () => atClose],
    ["state.json of generation 0 lost (it holds the empty state)", () => ({ "journal.0.ndjson": files.j0, "journal.1.ndjson": files.j1 }), () => atClose],
  ])("%s: loads, with everything acknowledged", async (_step, layout, expected) => {
    expect(await recovered(layout())).toEqual(expected());
  });
});

describe("a layout no writer leaves", () => {
  it.each<[string, () => Files, string]>([
    ["journal 1 without state.json", () => ({ "journal.1.ndjson": files.j1 }), "state.json is missing: DIR/journal.1.ndjson follows the snapshot of generation 1"],
    ["journals 1 and 2 without state.json", () => ({ "journal.1.ndjson": files.j1, "journal.2.ndjson": "" }), "state.json is missing: DIR/journal.1.ndjson"],
    ["journals 0 and 2 without state.json", () => ({ "journal.0.ndjson": files.j0, "journal.2.ndjson": files.j1 }), "journal.1.ndjson is missing, between journal.0.ndjson and journal.2.ndjson"],
    ["state.json of generation 0 alone", () => ({ "state.json": files.s0 }), "journal.0.ndjson is missing: DIR/state.json is of generation 0"],
    ["state.json of generation 1 with journal 0 only", () => ({ "state.json": files.s1, "journal.0.ndjson": files.j0 }), "journal.1.ndjson is missing: DIR/state.json is of generation 1"],
    ["state.json of generation 1 with journal 2", () => ({ "state.json": files.s1, "journal.2.ndjson": files.j1 }), "journal.1.ndjson is missing"],
    [
      "a gap after state.json's journal",
      () => ({ "state.json": files.s1, "journal.1.ndjson": files.j1, "journal.3.ndjson": "" }),
      "journal.2.ndjson is missing, between journal.1.ndjson and journal.3.ndjson",
    ],
    ["state.json newer than every journal", () => ({ "state.json": withGeneration(files.s1, 5), "journal.1.ndjson": files.j1 }), "journal.5.ndjson is missing"],
    [
      "closed.json naming a journal older than the newest",
      () => ({ "state.json": files.s1, "journal.1.ndjson": files.j1, "journal.2.ndjson": "", "closed.json": files.closed }),
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

function damaged(content: Buffer, damage: Damage): Buffer | undefined {
  if (damage === "removed") return undefined;
  if (damage === "cut in half") return content.subarray(0, Math.floor(content.length / 2));
  if (damage === "zeroed") return Buffer.alloc(content.length);
  const secondLine = content.indexOf(0x0a) + 1;
  return Buffer.concat([content.subarray(0, secondLine + 20), content.subarray(content.indexOf(0x0a, secondLine))]);
}

describe("files × damage", () => {
  const afterCleanClose = () => ({ "state.json": files.s1, "journal.1.ndjson": files.j1, "closed.json": files.closed });
  const deadPid = "2147483646\n";
  const afterCrash = () => ({ "state.json": files.s1, "journal.1.ndjson": files.j1, "writer.pid": deadPid });
  it.each<[string, string, Damage, "recovers" | "refused", () => Files]>([
    ["clean close", "state.json", "removed", "refused", afterCleanClose],
    ["clean close", "state.json", "cut in half", "refused", afterCleanClose],
    ["clean close", "state.json", "zeroed", "refused", afterCleanClose],
    ["clean close", "journal.1.ndjson", "removed", "refused", afterCleanClose],
    ["clean close", "journal.1.ndjson", "cut in half", "refused", afterCleanClose],
    ["clean close", "journal.1.ndjson", "zeroed", "refused", afterCleanClose],
    ["clean close", "journal.1.ndjson", "a line cut inside, its newline kept", "refused", afterCleanClose],
    ["clean close", "closed.json", "removed", "recovers", afterCleanClose],
    ["clean close", "closed.json", "cut in half", "refused", afterCleanClose],
    ["clean close", "closed.json", "zeroed", "refused", afterCleanClose],
    ["crash", "state.json", "removed", "refused", afterCrash],
    ["crash", "state.json", "cut in half", "refused", afterCrash],
    ["crash", "state.json", "zeroed", "refused", afterCrash],
    ["crash", "journal.1.ndjson", "removed", "refused", afterCrash],
    ["crash", "journal.1.ndjson", "zeroed", "refused", afterCrash],
    ["crash", "journal.1.ndjson", "a line cut inside, its newline kept", "refused", afterCrash],
    ["crash", "writer.pid", "removed", "recovers", afterCrash],
    ["crash", "writer.pid", "cut in half", "recovers", afterCrash],
    ["crash", "writer.pid", "zeroed", "recovers", afterCrash],
  ])("after a %s, %s %s: %s", async (_when, name, damage, outcome, layout) => {
    const base = layout();
    const content = damaged(Buffer.from(base[name] as Buffer | string), damage);
    const layoutFiles = content === undefined ? Object.fromEntries(Object.entries(base).filter(([file]) => file !== name)) : { ...base, [name]: content };
    if (outcome === "recovers") {
      expect(await recovered(layoutFiles)).toEqual(atClose);
      return;
    }
    const refused = directory(layoutFiles);
    const before = contents(refused);
    await expect(openState(refused, options())).rejects.toThrow(StateFileError);
    await expect(openState(refused, options())).rejects.toThrow(join(refused, name));
    expect(contents(refused)).toEqual(before);
  });

  it("after a crash, takes a journal cut inside its last line for a write cut by the crash, and logs the drop", async () => {
    const cutLast = files.j1.subarray(0, files.j1.length - 10);
    const dir = directory({ "state.json": files.s1, "journal.1.ndjson": cutLast });
    const logged: string[] = [];
    const state = await openDurableState({ dir, registry: options(), compactBytes: 1 << 30, log: (line) => logged.push(line), onFatal: fail });
    const torn = cutLast.length - cutLast.lastIndexOf(0x0a) - 1;
    expect(state.recovered.tornBytes).toBe(torn);
    expect(logged).toEqual([`${join(dir, "journal.1.ndjson")}: dropped a torn last line (${torn} bytes) left by a crash`]);
    await state.close();
  });
});
