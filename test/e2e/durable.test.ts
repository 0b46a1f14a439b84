// --state end to end: a kill -9 loop (every reply a client received is in
// the recovered state; the files always load), a second writer refused,
// a corrupt journal refused, SIGTERM writing what is pending.
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RawSidecar } from "../support/sidecar-process.js";
import { type Json, req } from "../support/wire-frames.js";
import { tempDir } from "../support/temp-dir.js";

const sidecars: RawSidecar[] = [];
const fresh = () => tempDir("harn-durable-");
type Exit = { code: number | null; signal: NodeJS.Signals | null };
const closes = new Map<RawSidecar, Promise<Exit>>();
const start = (dir: string, extra: string[] = []) => {
  const sidecar = new RawSidecar("ndjson", [
    `--state=${dir}`,
    "--lock-ttl-ms=3600000",
    "--agent-timeout-ms=3600000",
    ...extra,
  ]);
  sidecars.push(sidecar);
  const closed = new Promise<Exit>((resolve) =>
    sidecar.child.once("close", (code, signal) => resolve({ code, signal })),
  );
  closes.set(sidecar, closed);
  return sidecar;
};
/** How the process ended, once its stderr is read to the end ('exit' can come before the last of it). */
const ended = (sidecar: RawSidecar) => closes.get(sidecar) as Promise<Exit>;
afterEach(() => {
  for (const sidecar of sidecars.splice(0)) sidecar.kill();
});

/** Every complete NDJSON reply in what the process wrote before it died (a torn last line is not a reply). */
function received(sidecar: RawSidecar): Json[] {
  const text = sidecar.stdout.toString();
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

/** A tiny seeded generator, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("--state survives kill -9", () => {
  it("reflects every reply the client received before each of 60 kills, and always loads", async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const dir = fresh();
    const held = new Map<string, number>();
    const released = new Set<string>();
    const records = new Map<number, string>();
    let kills = 0;
    for (let round = 0; round < 60; round++) {
      const sidecar = start(dir, ["--compact-bytes=20000"]);
      const locks: Json[] = (await sidecar.call("check-locks", "lock_list")).result;
      const holders = new Map(locks.map((lock: Json) => [lock.path, lock.agent_id]));
      for (const [path, agent] of held)
        expect(holders.get(path), `seed ${seed} round ${round}: acknowledged lock on ${path}`).toBe(agent);
      for (const path of released)
        expect(holders.has(path), `seed ${seed} round ${round}: acknowledged release of ${path}`).toBe(false);
      const changes: Json[] = (await sidecar.call("check-changes", "changes_since", { seq: 0 })).result;
      const hashes = new Map(changes.map((change: Json) => [change.seq, change.hash]));
      for (const [seq, hash] of records)
        expect(hashes.get(seq), `seed ${seed} round ${round}: acknowledged version ${seq}`).toBe(hash);
      held.clear();
      for (const lock of locks) held.set(lock.path, lock.agent_id);
      released.clear();

      const sent = new Map<string, Json>();
      const count = 20 + Math.floor(rand() * 150);
      const heldPaths = [...held.keys()];
      for (let i = 0; i < count; i++) {
        const id = `${round}-${i}`;
        const pick = rand();
        const agent = 1 + Math.floor(rand() * 5);
        let request: Json;
        if (pick < 0.45) request = req(id, "lock_try", { agent_id: agent, path: `r${round}/f${i}` });
        else if (pick < 0.7 && heldPaths.length > 0) {
          const path = heldPaths.splice(Math.floor(rand() * heldPaths.length), 1)[0] as string;
          request = req(id, "lock_release", { agent_id: held.get(path), path });
          held.delete(path);
        } else
          request = req(id, "version_record", { agent_id: agent, path: `v/r${round}`, hash: `${round * 1000 + i}` });
        sent.set(id, request);
        sidecar.send(request);
      }
      const waitFor = Math.floor(rand() * count);
      const deadline = Date.now() + 5000;
      while (received(sidecar).length - 2 < waitFor && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 1));
      sidecar.kill();
      expect((await ended(sidecar)).signal).toBe("SIGKILL");
      kills++;
      for (const reply of received(sidecar)) {
        const request = sent.get(reply.id);
        if (request === undefined) continue;
        expect(reply.error, `seed ${seed}: ${JSON.stringify(reply)}`).toBeUndefined();
        if (request.method === "lock_try" && reply.result.locked)
          held.set(request.params.path, request.params.agent_id);
        if (request.method === "lock_release") released.add(request.params.path);
        if (request.method === "version_record") records.set(reply.result, request.params.hash);
      }
    }
    expect(kills).toBe(60);
    expect(readdirSync(dir).some((name) => name === "state.json")).toBe(true);
  }, 120_000);
});

describe("--state", () => {
  it("refuses a second process on the same directory, naming the holder's pid", async () => {
    const dir = fresh();
    const first = start(dir);
    await first.call(1, "agent_register", { name: "a" });
    const second = start(dir);
    expect(await ended(second)).toEqual({ code: 1, signal: null });
    const refusal = `${dir} is in use by process ${first.child.pid}; stop that process or use another --state`;
    expect(second.stderr).toBe(`harn-registry: ${refusal}\n`);
    expect(second.stdout.length).toBe(0);
    expect((await first.call(2, "agent_list")).result).toHaveLength(1);
  });

  it("refuses to start on a corrupt journal line, naming file and line, and leaves the file as it was", async () => {
    const dir = fresh();
    const first = start(dir);
    await first.call(1, "lock_try", { agent_id: 1, path: "a" });
    await first.call(2, "lock_try", { agent_id: 1, path: "b" });
    first.kill();
    await first.exited;
    const path = join(dir, "journal.0.ndjson");
    const lines = readFileSync(path, "utf8").split("\n");
    lines[1] = (lines[1] as string).replace('"a"', '"x"');
    writeFileSync(path, lines.join("\n"));
    const before = readFileSync(path);
    const second = start(dir);
    expect(await ended(second)).toEqual({ code: 1, signal: null });
    expect(second.stderr).toBe(
      `harn-registry: ${path} line 2: fails its checksum ` +
        `(changed, or moved, repeated or dropped lines before it, or from another journal); ` +
        `the file was left as it is\n`,
    );
    expect(readFileSync(path)).toEqual(before);
  });

  it("refuses to start without state.json when a later journal needs it, rather than start empty", async () => {
    const dir = fresh();
    const first = start(dir, ["--compact-bytes=1"]);
    for (let i = 1; i <= 11; i++) await first.call(i, "lock_try", { agent_id: 1, path: `p/${i}` });
    await first.endInput();
    expect(readdirSync(dir).filter((name) => /^journal\.[1-9]/.test(name))).not.toEqual([]);
    const generation = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).generation;
    rmSync(join(dir, "state.json"));
    const second = start(dir);
    expect(await ended(second)).toEqual({ code: 1, signal: null });
    const journal = join(dir, `journal.${generation}.ndjson`);
    expect(second.stderr).toContain(`harn-registry: ${join(dir, "state.json")} is missing: ${journal} follows`);
  });

  it("on SIGTERM answers what it received, writes it, exits 0; a restart has it", async () => {
    const dir = fresh();
    const first = start(dir);
    await first.call(0, "initialize");
    for (let i = 1; i <= 200; i++) first.send(req(i, "lock_try", { agent_id: 1 + (i % 3), path: `p/${i}` }));
    while (received(first).length < 11) await new Promise((resolve) => setTimeout(resolve, 1));
    first.child.kill("SIGTERM");
    expect(await ended(first)).toEqual({ code: 0, signal: null });
    const answered = received(first).filter((reply) => reply.id !== 0);
    expect(answered.length).toBeGreaterThanOrEqual(10);
    expect(first.stderr).toContain("SIGTERM: writing what is pending, then exiting");
    const second = start(dir);
    const locks: Json[] = (await second.call(1, "lock_list")).result;
    for (const reply of answered) expect(locks.some((lock) => lock.path === `p/${reply.id}`)).toBe(true);
  });

  it(
    "keeps event numbers: an event_seq names one event for the life of the directory, " +
      "across restarts and compactions, and numbering continues after the last one",
    async () => {
      const dir = fresh();
      const sinceZero = async (sidecar: RawSidecar) =>
        (await sidecar.call("events", "events_since", { seq: 0 })).result;
      const first = start(dir);
      await first.call(1, "agent_register", { name: "a" });
      await first.call(2, "lock_try", { agent_id: 1, path: "a" });
      const one = await sinceZero(first);
      expect(one).toMatchObject({ oldest_seq: 1, latest_seq: 2 });
      expect(await first.endInput()).toEqual({ code: 0, signal: null });

      const second = start(dir, ["--compact-bytes=1"]);
      const two = await sinceZero(second);
      expect(two.oldest_seq).toBe(1);
      expect(two.events.slice(0, 2)).toEqual(one.events);
      await second.call(1, "lock_try", { agent_id: 2, path: "b" });
      const grown = await sinceZero(second);
      expect(grown.events.slice(-2)).toMatchObject([
        { event_seq: two.latest_seq + 1, type: "agent/registered", agent_id: 2 },
        { event_seq: two.latest_seq + 2, type: "lock/granted", agent_id: 2, path: "b" },
      ]);
      expect(await second.endInput()).toEqual({ code: 0, signal: null });
      expect(second.stderr).toMatch(/compacted .*: generation [1-9]/);

      const third = start(dir);
      const three = await sinceZero(third);
      const saved = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
      expect(saved.generation).toBeGreaterThan(0);
      expect(three.oldest_seq).toBe(saved.lastEventSeq + 1);
      expect(three.oldest_seq).toBeGreaterThan(1);
      expect(three.latest_seq).toBeGreaterThanOrEqual(grown.latest_seq);
      const earlier = new Map(grown.events.map((event: Json) => [event.event_seq, event]));
      for (const event of three.events)
        if (earlier.has(event.event_seq)) expect(event).toEqual(earlier.get(event.event_seq));
      await third.call(1, "agent_heartbeat", { agent_id: 3 });
      const added = (await third.call(2, "events_since", { seq: three.latest_seq })).result.events;
      expect(added).toMatchObject([{ event_seq: three.latest_seq + 1, type: "agent/registered", agent_id: 3 }]);
      expect(await third.endInput()).toEqual({ code: 0, signal: null });

      const fourth = start(dir);
      const four = await sinceZero(fourth);
      expect(four.oldest_seq).toBe(three.oldest_seq);
      expect(four.events.slice(0, three.events.length + 1)).toEqual([...three.events, ...added]);
    },
  );

  it("recovers with the command-line config winning over the saved one", async () => {
    const dir = fresh();
    const first = start(dir);
    await first.call(1, "lock_try", { agent_id: 1, path: "a" });
    await first.endInput();
    const second = new RawSidecar("ndjson", [`--state=${dir}`, "--lock-ttl-ms=1234"]);
    sidecars.push(second);
    expect((await second.call(1, "initialize")).result.config).toEqual({
      default_lock_ttl_ms: 1234,
      agent_timeout_ms: 3_600_000,
    });
    expect((await second.call(2, "lock_holder", { path: "a" })).result).toBe(1);
    expect(second.stderr).toMatch(/state .*: generation 0, \d+ journal entries replayed/);
  });
});

describe("restore with --state", () => {
  const nested = `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
  const config = '"config":{"default_lock_ttl_ms":3600000,"agent_timeout_ms":3600000}';
  const agent = (id: number, path: string, extra = "") =>
    `{"id":${id},"name":"a${id}","state":"active","last_seen_ms":5,"edit_count":0,` +
    `"locked_paths":{"${path}":9000000}${extra}}`;
  const change = '{"seq":1,"agent_id":1,"timestamp_ms":5,"op":"write","hash":14695981039346656037,"size":1}';
  const inputs = [
    `{"format_version":2,"taken_at_ms":5,${config},"agents":{"next_id":2,"next_fence":9,"agents":[` +
      `${agent(1, "x", ',"lock_fences":{"x":8},"shared_paths":[]')}]},` +
      `"versions":{"current_seq":1,"history":{"x":[${change}]}}}`,
    `{"files":{"n":123456789012345678901234567890},"agents":{"agents":[${agent(3, "y")}]},"versions":{}}`,
    `{"index":${nested},"agents":{"agents":[${agent(4, "z")}]},"versions":{}}`,
  ];

  it("answers as in memory to bare u64s, big numbers, deep nesting in ignored parts; a restart keeps it", async () => {
    const dir = fresh();
    const memory = new RawSidecar("ndjson", ["--clock=manual", "--lock-ttl-ms=3600000", "--agent-timeout-ms=3600000"]);
    const durable = start(dir, ["--clock=manual"]);
    sidecars.push(memory);
    const replies: Json[][] = [[], []];
    for (const [index, sidecar] of [memory, durable].entries()) {
      await sidecar.call(0, "clock_set", { now_ms: 10 });
      for (const [at, input] of inputs.entries()) {
        sidecar.sendRaw(`{"jsonrpc":"2.0","id":${at},"method":"restore","params":{"snapshot":${input}}}\n`);
        replies[index]?.push(await sidecar.next(), (await sidecar.call(`s${at}`, "snapshot")).result);
        await sidecar.call(`t${at}`, "lock_try", { agent_id: 9, path: `after/${at}` });
      }
    }
    expect(replies[0]?.filter((reply) => reply.error !== undefined)).toEqual([]);
    expect(replies[1]).toEqual(replies[0]);
    const last = (await memory.call("last", "snapshot")).result;
    await durable.endInput();
    const restarted = start(dir, ["--clock=manual"]);
    await restarted.call(0, "clock_set", { now_ms: 10 });
    expect((await restarted.call(1, "snapshot")).result).toEqual(last);
  });
});
