// Several sidecar processes on one PostgreSQL database are one registry:
// concurrent clients never see overlapping conflicting holds, the version
// log is gapless and the same from every sidecar, a wait on one sidecar is
// granted by a release on another, a sidecar's end or kill -9 frees its
// locks, and a database restart loses nothing acknowledged.
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { type Sidecar, spawnSidecar } from "../../src/client/index.js";
import { usePostgres } from "../support/use-postgres.js";
import { BIN } from "../support/sidecar-process.js";

const pg = usePostgres();
const running: Sidecar[] = [];

afterEach(async () => {
  for (const sidecar of running.splice(0)) sidecar.child.kill("SIGKILL");
});

function start(url: string, args: string[] = []): Sidecar {
  const sidecar = spawnSidecar({ args: [`--state=${url}`, ...args], stderr: "pipe" });
  running.push(sidecar);
  return sidecar;
}

/** A hold of `path` by `agent` as its client saw it: from the grant's reply to the release's request. */
interface Hold {
  path: string;
  agent: number;
  from: number;
  to: number;
}

/** No two holds of one path by different agents overlap. */
function overlapping(holds: Hold[]): [Hold, Hold] | undefined {
  const byPath = new Map<string, Hold[]>();
  for (const hold of holds) byPath.set(hold.path, [...(byPath.get(hold.path) ?? []), hold]);
  for (const list of byPath.values()) {
    list.sort((a, b) => a.from - b.from);
    for (let k = 1; k < list.length; k++) {
      const [before, after] = [list[k - 1] as Hold, list[k] as Hold];
      if (after.from < before.to && after.agent !== before.agent) return [before, after];
    }
  }
  return undefined;
}

const isUnavailable = (error: unknown) => (error as { code?: number }).code === 1011;

/** One worker: lock a path, record an edit under its fence, release; `rounds` times. Unavailable calls are skipped. */
async function work(sidecar: Sidecar, name: string, rounds: number, holds: Hold[], recorded: number[]): Promise<void> {
  const { client } = sidecar;
  let agent: number | undefined;
  for (let round = 0; round < rounds; round++) {
    try {
      agent ??= await client.request("agent_register", { name });
      const path = `src/f${round % 3}.rs`;
      const got = await client.request("lock_acquire", { agent_id: agent, paths: [path], ttl_ms: 60_000 });
      if (!got.granted) continue;
      const from = performance.now();
      const fence = got.locks[0]?.fence;
      recorded.push(await client.request("version_record", { agent_id: agent, path, fence }));
      holds.push({ path, agent, from, to: performance.now() });
      await client.request("lock_release", { agent_id: agent, path });
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function sameLogEverywhere(sidecars: Sidecar[], recorded: number[]): Promise<void> {
  const logs = await Promise.all(sidecars.map((s) => s.client.request("changes_since", { seq: 0, limit: 100_000 })));
  for (const log of logs) expect(log).toEqual(logs[0]);
  const seqs = (logs[0] ?? []).map((change) => change.seq);
  expect(seqs).toEqual(seqs.map((_, k) => k + 1));
  for (const seq of recorded) expect(seqs).toContain(seq);
}

describe("PostgreSQL state: several sidecars, one registry", () => {
  it("three sidecars with concurrent clients: no overlapping holds, one gapless version log", async () => {
    const url = await pg.database();
    const sidecars = [start(url), start(url), start(url)];
    const holds: Hold[] = [];
    const recorded: number[] = [];
    await Promise.all(sidecars.flatMap((s, k) => [0, 1].map((w) => work(s, `w${k}.${w}`, 25, holds, recorded))));
    expect(overlapping(holds)).toBeUndefined();
    expect(recorded.length).toBeGreaterThan(10);
    await sameLogEverywhere(sidecars, recorded);
  }, 60_000);

  it("a wait on one sidecar is granted by a release on another", async () => {
    const url = await pg.database();
    const [a, b] = [start(url), start(url)];
    const holder = await a.client.request("agent_register", { name: "holder" });
    const waiter = await b.client.request("agent_register", { name: "waiter" });
    await a.client.request("lock_acquire", { agent_id: holder, paths: ["src/x.rs"] });
    const waiting = b.client.request("lock_acquire", { agent_id: waiter, paths: ["src/x.rs"], wait_ms: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await a.client.request("lock_release", { agent_id: holder, path: "src/x.rs" });
    expect(await waiting).toMatchObject({ granted: true });
    expect(await a.client.request("lock_holder", { path: "src/x.rs" })).toBe(waiter);
  }, 30_000);

  it("a restore through one sidecar ends bindings, on another, of agents it leaves not active", async () => {
    const url = await pg.database();
    const [a, b] = [start(url), start(url)];
    const empty = await a.client.request("snapshot");
    const agent = await b.client.request("agent_register", { name: "bound" });
    await b.client.request("current_agent_set", { agent_id: agent });
    expect(await b.client.request("current_agent_id")).toBe(agent);
    await a.client.request("restore", { snapshot: empty });
    await b.client.request("current_seq");
    expect(await b.client.request("current_agent_id")).toBeNull();
  }, 30_000);

  it("a sidecar whose input closes crashes its agents first: their locks are free for the others", async () => {
    const url = await pg.database();
    const [a, b] = [start(url), start(url)];
    const agent = await a.client.request("agent_register", { name: "leaving" });
    await a.client.request("lock_try", { agent_id: agent, path: "src/x.rs" });
    a.child.stdin?.end();
    expect(await a.exited).toBe(0);
    expect(await b.client.request("lock_holder", { path: "src/x.rs" })).toBeNull();
    expect(await b.client.request("agent_get", { agent_id: agent })).toMatchObject({ state: "crashed" });
  }, 30_000);

  it("kill -9 of a sidecar holding locks: another sidecar frees them within 5 s", async () => {
    const url = await pg.database();
    const [a, b] = [start(url), start(url)];
    const agent = await a.client.request("agent_register", { name: "killed" });
    await a.client.request("lock_try", { agent_id: agent, path: "src/x.rs" });
    a.child.kill("SIGKILL");
    await a.exited;
    const killedAt = performance.now();
    while ((await b.client.request("lock_holder", { path: "src/x.rs" })) !== null) {
      expect(performance.now() - killedAt).toBeLessThan(8_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await b.client.request("agent_get", { agent_id: agent })).toMatchObject({ state: "crashed" });
  }, 30_000);

  it("a database restart in the middle of a run: nothing acknowledged lost, no double grant", async () => {
    const url = await pg.database();
    const sidecars = [start(url), start(url), start(url)];
    const holds: Hold[] = [];
    const recorded: number[] = [];
    const load = Promise.all(sidecars.map((s, k) => work(s, `r${k}`, 60, holds, recorded)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pg.server.restartImmediate();
    await load;
    expect(overlapping(holds)).toBeUndefined();
    await sameLogEverywhere(sidecars, recorded);
  }, 90_000);

  it("an unreachable database at start: exit 1 within 10 s, one line naming the host, no password", async () => {
    const child = spawn(process.execPath, [BIN, "--state=postgres://someone:s3cret@127.0.0.1:1/nothing"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const started = performance.now();
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(performance.now() - started).toBeLessThan(10_500);
    expect(code).toBe(1);
    expect(stderr).toContain("127.0.0.1:1");
    expect(stderr).not.toContain("s3cret");
    expect(
      stderr
        .trim()
        .split("\n")
        .filter((line) => !line.includes("config:")),
    ).toHaveLength(1);
  }, 20_000);
});
