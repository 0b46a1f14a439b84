// The person-facing subcommands: status (against a socket server, a state
// directory and snapshot files; plain when piped; --json; --watch) and demo.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandName } from "../../src/cli/flags.js";
import { renderHelp } from "../../src/cli/usage.js";
import { BIN, RawSidecar } from "../support/sidecar-process.js";
import { req } from "../support/wire-frames.js";
import { SocketClient, SocketServer } from "../support/socket-client.js";
import { openState } from "../support/durable.js";
import { INDEX_LIKE_PATHS } from "../support/index-like-paths.js";
import { tempDir } from "../support/temp-dir.js";

const servers: SocketServer[] = [];
const clients: SocketClient[] = [];
const children: ChildProcess[] = [];
const sidecars: RawSidecar[] = [];
afterEach(() => {
  for (const sidecar of sidecars.splice(0)) sidecar.kill();
  for (const client of clients.splice(0)) client.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const server of servers.splice(0)) server.kill();
});

const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
const ESCAPE = /\u001b/;

/** A socket server with --state and one connected host holding two locks. */
async function populated() {
  const dir = tempDir("harn-cli-");
  const server = new SocketServer([`--listen=unix:${join(dir, "s.sock")}`, `--state=${join(dir, "state")}`]);
  servers.push(server);
  const address = await server.listening;
  const host = await SocketClient.open(address);
  clients.push(host);
  await host.call(1, "agent_register", { name: "editor" });
  await host.call(2, "agent_register", { name: "reviewer" });
  await host.call(3, "lock_acquire", { agent_id: 1, paths: ["src/main.rs"], ttl_ms: 600_000 });
  await host.call(4, "lock_acquire", { agent_id: 2, paths: ["docs"], mode: "shared", ttl_ms: 600_000 });
  await host.call(5, "version_record", { agent_id: 1, path: "src/main.rs" });
  return { dir, address, host, state: join(dir, "state") };
}

function expectTables(stdout: string) {
  expect(stdout).not.toMatch(ESCAPE);
  const lines = stdout.split("\n");
  expect(lines).toContain("Agents (2)");
  expect(lines).toContain("Locks (2)");
  expect(stdout).toMatch(/^ {2}ID {2}NAME {6}STATE {3}LAST SEEN +EDITS {2}LOCKS$/m);
  expect(stdout).toMatch(/^ {3}1 {2}editor {4}active {2}\S+ ago +1 +1$/m);
  expect(stdout).toMatch(/^ {3}2 {2}reviewer {2}active {2}\S+ ago +0 +1$/m);
  expect(stdout).toMatch(/^ {2}PATH {9}MODE {7}HOLDER {2}FENCE {2}EXPIRES IN$/m);
  expect(stdout).toMatch(/^ {2}docs {9}shared {10}2 {6}2 {2}9m 5\ds$/m);
  expect(stdout).toMatch(/^ {2}src\/main\.rs {2}exclusive {7}1 {6}1 {2}9m 5\ds$/m);
}

describe("harn-registry status", () => {
  it("shows a running server's agents and locks as aligned plain tables when piped", async () => {
    const { address } = await populated();
    const result = run(["status", `--listen=${address}`]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")[0]).toMatch(
      new RegExp(`^harn-registry status {2}${address.replace(/[/.]/g, "\\$&")} {2}as of \\d{4}-\\d\\d-\\d\\dT`),
    );
    expect(result.stdout.split("\n")[1]).toBe(
      "config  default_lock_ttl_ms=30000 (default), agent_timeout_ms=45000 (default)",
    );
    expectTables(result.stdout);
  });

  it("reads a live server's state directory without taking its lock", async () => {
    const { state, host } = await populated();
    const result = run(["status", `--state=${state}`]);
    expect(result.status).toBe(0);
    expectTables(result.stdout);
    expect((await host.call(9, "current_seq")).result).toBe(1);
  });

  it("reads snapshot files: ours, a state.json, and harn-hostlib's", async () => {
    const { dir, host } = await populated();
    const snapshot = (await host.call(9, "snapshot")).result;
    writeFileSync(join(dir, "snap.json"), JSON.stringify(snapshot));
    expectTables(run(["status", `--snapshot=${join(dir, "snap.json")}`]).stdout);
    writeFileSync(
      join(dir, "state.json"),
      JSON.stringify({ format: "harn-registry-state/1", generation: 1, waits: { next_id: 1, waits: [] }, snapshot }),
    );
    expectTables(run(["status", `--snapshot=${join(dir, "state.json")}`]).stdout);
    const hostlib = {
      agents: {
        next_id: 2,
        agents: [
          {
            id: 1,
            name: "burin",
            state: "active",
            last_seen_ms: Date.now(),
            edit_count: 4,
            locked_paths: { "a.rs": Date.now() + 60_000 },
          },
        ],
      },
      versions: {},
    };
    writeFileSync(join(dir, "hostlib.json"), JSON.stringify(hostlib));
    const result = run(["status", `--snapshot=${join(dir, "hostlib.json")}`]);
    expect(result.stdout).toMatch(/^ {2}a\.rs {2}exclusive {7}1 {6}1 {2}\d\ds$/m);
  });

  it("reads a harn-hostlib snapshot with u64 hashes written as bare numbers losslessly, as restore does", () => {
    const dir = tempDir("harn-cli-");
    const history = {
      "a.rs": [{ seq: 1, agent_id: 1, timestamp_ms: 5, op: "write", hash: "@14695981039346656037", size: 3 }],
    };
    const seen = Date.now();
    const hostlib = {
      agents: {
        next_id: 2,
        agents: [{ id: 1, name: "burin", state: "active", last_seen_ms: seen, edit_count: 1, locked_paths: {} }],
      },
      versions: { current_seq: 1, history },
    };
    writeFileSync(
      join(dir, "hostlib.json"),
      JSON.stringify(hostlib).replace('"@14695981039346656037"', "14695981039346656037"),
    );
    const result = run(["status", `--snapshot=${join(dir, "hostlib.json")}`, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).agents).toEqual([
      { id: 1, name: "burin", state: "active", last_seen_ms: seen, edit_count: 1, locks: 0 },
    ]);
  });

  it(
    "--json lists integer-like paths in code-unit order, " + "from a state directory and from a snapshot file",
    async () => {
      const dir = tempDir("harn-cli-");
      const state = await openState(join(dir, "state"), { now: Date.now });
      for (const path of INDEX_LIKE_PATHS) state.store.tryLock(1, path, 600_000);
      state.store.acquire({ agentId: 2, paths: ["3", "20", "b"], mode: "shared", ttlMs: 600_000 });
      writeFileSync(join(dir, "snap.json"), JSON.stringify(state.store.snapshot()));
      await state.close();
      const order = [...INDEX_LIKE_PATHS, "3", "20", "b"].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const source of [`--state=${join(dir, "state")}`, `--snapshot=${join(dir, "snap.json")}`]) {
        const result = run(["status", source, "--json"]);
        expect(result.stderr).toBe("");
        expect([...result.stdout.matchAll(/"path":("[^"]*")/g)].map((match) => JSON.parse(match[1] as string))).toEqual(
          order,
        );
      }
    },
  );

  it(
    "judges a --clock=manual writer's state directory by the writer's clock, " +
      "not the wall clock, while it runs and after",
    async () => {
      const state = join(tempDir("harn-cli-"), "state");
      const writer = new RawSidecar("ndjson", [`--state=${state}`, "--clock=manual", "--agent-timeout-ms=45000"]);
      sidecars.push(writer);
      await writer.call(1, "clock_set", { now_ms: 1_000 });
      await writer.call(2, "agent_register", { name: "editor" });
      await writer.call(3, "lock_acquire", { agent_id: 1, paths: ["src/main.rs"], ttl_ms: 60_000 });
      await writer.call(4, "clock_set", { now_ms: 30_000 });
      const view = () => JSON.parse(run(["status", `--state=${state}`, "--json"]).stdout);
      expect(view()).toMatchObject({
        as_of_ms: 30_000,
        clock: "manual",
        agents: [{ id: 1, state: "active", last_seen_ms: 1_000, locks: 1 }],
        locks: [{ path: "src/main.rs", holder: 1, expires_at_ms: 61_000 }],
      });
      const table = run(["status", `--state=${state}`]).stdout;
      expect(table.split("\n")[0]).toMatch(/ {2}as of 1970-01-01T00:00:30\.000Z \(manual clock\)$/);
      expect(table).toMatch(/^ {3}1 {2}editor {2}active {2}29s ago/m);
      expect(table).toMatch(/^ {2}src\/main\.rs {2}exclusive {7}1 {6}1 {2}31s$/m);

      await writer.call(5, "clock_set", { now_ms: 46_001 });
      expect((await writer.call(6, "agent_get", { agent_id: 1 })).result).toMatchObject({ state: "crashed" });
      expect(view()).toMatchObject({
        as_of_ms: 46_001,
        clock: "manual",
        agents: [{ id: 1, state: "crashed", locks: 0 }],
        locks: [],
      });
      expect(await writer.endInput()).toEqual({ code: 0, signal: null });
      expect(view()).toMatchObject({ as_of_ms: 46_001, clock: "manual", agents: [{ id: 1, state: "crashed" }] });
    },
  );

  it("judges a --clock=system writer's state directory by the wall clock", async () => {
    const { state } = await populated();
    const before = Date.now();
    const view = JSON.parse(run(["status", `--state=${state}`, "--json"]).stdout);
    expect(view.clock).toBeUndefined();
    expect(view.as_of_ms).toBeGreaterThanOrEqual(before);
    expect(view.as_of_ms).toBeLessThanOrEqual(Date.now());
  });

  it("prints JSON with --json", async () => {
    const { address } = await populated();
    const view = JSON.parse(run(["status", `--listen=${address}`, "--json"]).stdout);
    expect(view.agents.map((agent: { name: string }) => agent.name)).toEqual(["editor", "reviewer"]);
    expect(view.locks).toEqual([
      { path: "docs", mode: "shared", holder: 2, fence: 2, expires_at_ms: expect.any(Number) },
      { path: "src/main.rs", mode: "exclusive", holder: 1, fence: 1, expires_at_ms: expect.any(Number) },
    ]);
  });

  it("--watch redraws when an event comes", async () => {
    const { address, host } = await populated();
    const child = spawn(process.execPath, [BIN, "status", `--listen=${address}`, "--watch"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const until = async (test: () => boolean) => {
      for (let i = 0; i < 500 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(test(), stdout).toBe(true);
    };
    await until(() => stdout.includes("Locks (2)"));
    await host.call(10, "lock_try", { agent_id: 1, path: "src/new.rs" });
    await until(() => stdout.includes("Locks (3)") && stdout.includes("src/new.rs"));
    expect(stdout).not.toMatch(ESCAPE);
  });

  it.each([
    [[], "status needs exactly one of --listen, --state or --snapshot (see status --help)"],
    [
      ["--state=a", "--snapshot=b"],
      "status needs exactly one of --listen, --state or --snapshot, got --state and --snapshot (see status --help)",
    ],
    [
      ["--snapshot=b", "--watch"],
      "--watch needs --listen or --state (a snapshot file does not change; see status --help)",
    ],
    [["--state=a", "--auth-token-file=t"], "--auth-token-file goes with --listen (see status --help)"],
    [["--listen=tcp:8.8.8.8:1"], '--listen: binds loopback only (127.0.0.1, localhost or [::1]), got host "8.8.8.8"'],
  ])("status %j → one line saying what to do, exit 2", (args, message) => {
    const result = run(["status", ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`harn-registry: ${message}\n`);
  });

  it("exits 1 with one line when the source cannot be read", () => {
    const result = run(["status", "--listen=unix:/nonexistent/harn.sock"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^harn-registry status: cannot reach unix:\/nonexistent\/harn\.sock: connect ENOENT \/nonexistent\/harn\.sock\n$/,
    );
  });

  it("--watch exits 1 with one line naming the server when it goes away", async () => {
    const { address } = await populated();
    const child = spawn(process.execPath, [BIN, "status", `--listen=${address}`, "--watch"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    for (let i = 0; i < 500 && !stdout.includes("Locks (2)"); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    servers[0]?.kill();
    expect(await exited).toBe(1);
    // The client's reason (a redraw in flight when it went: the request's name first).
    // A killed server may also reset the connection: either way one line names the server and the cause.
    const server = `the server at ${address.replace(/[/.]/g, "\\$&")}`;
    expect(stderr).toMatch(
      new RegExp(
        `^harn-registry status: (\\w+: )?(${server} closed the connection|the connection to ${server} failed: .+)\n$`,
      ),
    );
  });
});

describe("harn-registry demo", () => {
  it("plays the story to the end, every step with the outcome it should have, plain when piped", () => {
    const result = run(["demo"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    const out = result.stdout;
    expect(out).not.toMatch(ESCAPE);
    const steps = [
      /editor \(1\) +lock_acquire src\/main\.rs +→ granted, fence 1/,
      /reviewer \(2\) +lock_try src\/main\.rs +→ refused: held by editor \(1\)/,
      /reviewer \(2\) +lock_acquire src\/main\.rs, wait up to 10s +→ queued/,
      /editor \(1\) +version_record src\/main\.rs with its fence +→ recorded as change 1/,
      /event: lock\/granted reviewer \(2\) src\/main\.rs fence 2/,
      /reviewer \(2\) +\(still waiting\) +→ granted on release, fence 2/,
      /editor \(1\) +lock_try docs\/guide\.md +→ refused: held by refactorer \(3\) \(docs covers it\)/,
      /editor \(1\) +lock_acquire src\/main\.rs +→ granted, fence 4 \(the paused lock expired\)/,
      /reviewer \(2\) +wakes up, version_record with fence 2 +→ refused: stale_fence; nothing recorded/,
      /event: agent\/crashed refactorer \(3\) released \[docs\]/,
      /refactorer \(3\) +silent for \d+s +→ crashed, 0 locks left/,
      /editor \(1\) +lock_try docs\/guide\.md +→ granted \(docs was freed\)/,
      /Done: 5 locks granted, 2 refused, 2 expired, 1 freed by a crash; 1 wait granted\./,
    ];
    let at = 0;
    for (const step of steps) {
      const match = step.exec(out.slice(at));
      expect(match, String(step)).not.toBeNull();
      at += (match?.index ?? 0) + (match?.[0].length ?? 0);
    }
  });
});

describe("--help of every subcommand", () => {
  it.each([
    [[], ["--listen", "--state", "--max-agents", "[100000]", "[256]"]],
    [["connect"], ["--listen", "--auth-token-file"]],
    [["status"], ["--listen", "--state", "--snapshot", "--json", "--watch", "[tables]", "[print once]"]],
    [["demo"], ["Usage: harn-registry demo"]],
  ])("%j --help lists its flags with defaults", (subcommand, expected) => {
    const result = run([...subcommand, "--help"]);
    expect(result.status).toBe(0);
    for (const text of expected) expect(result.stdout).toContain(text);
    expect(result.stdout).toBe(`${renderHelp((subcommand[0] ?? "serve") as CommandName)}\n`);
  });
});

describe("the config in force, and where each value came from", () => {
  const INITIALIZE = `${JSON.stringify(req(1, "initialize"))}\n`;
  /** Start a stdio sidecar, send initialize, end: its reply and its config log line. */
  const start = (args: string[]) => {
    const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input: INITIALIZE });
    expect(result.status, result.stderr).toBe(0);
    const log = result.stderr.split("\n").filter((line) => line.startsWith("harn-registry: config: "));
    expect(log).toHaveLength(1);
    const { config, config_sources } = JSON.parse(result.stdout).result;
    return { config, sources: config_sources, log: log[0] };
  };

  it(
    "a flag wins; without one, a --state directory keeps the value it had; " +
      "otherwise the default: in the start log, initialize and status",
    () => {
      const dir = join(tempDir("harn-config-"), "state");
      const first = start([`--state=${dir}`, "--lock-ttl-ms=1234"]);
      expect(first).toMatchObject({
        config: { default_lock_ttl_ms: 1234, agent_timeout_ms: 45_000 },
        sources: { default_lock_ttl_ms: "flag", agent_timeout_ms: "default" },
      });
      expect(first.log).toMatch(
        new RegExp(
          String.raw`^harn-registry: config: lock-ttl-ms=1234 \(flag\), agent-timeout-ms=45000 \(default\), ` +
            String.raw`compact-bytes=67108864 \(default\), `,
        ),
      );
      const again = start([`--state=${dir}`]);
      expect(again).toMatchObject({
        config: { default_lock_ttl_ms: 1234, agent_timeout_ms: 45_000 },
        sources: { default_lock_ttl_ms: "state", agent_timeout_ms: "state" },
      });
      expect(again.log).toMatch(
        /^harn-registry: config: lock-ttl-ms=1234 \(state\), agent-timeout-ms=45000 \(state\), /,
      );
      const third = start([`--state=${dir}`, "--agent-timeout-ms", "999"]);
      expect(third).toMatchObject({
        config: { default_lock_ttl_ms: 1234, agent_timeout_ms: 999 },
        sources: { default_lock_ttl_ms: "state", agent_timeout_ms: "flag" },
      });

      const view = JSON.parse(run(["status", `--state=${dir}`, "--json"]).stdout);
      expect(view).toMatchObject({
        config: { default_lock_ttl_ms: 1234, agent_timeout_ms: 999 },
        config_sources: { default_lock_ttl_ms: "state", agent_timeout_ms: "state" },
      });
      expect(run(["status", `--state=${dir}`]).stdout.split("\n")[1]).toBe(
        "config  default_lock_ttl_ms=1234 (state), agent_timeout_ms=999 (state)",
      );

      const memory = start(["--no-metrics"]);
      expect(memory.sources).toEqual({ default_lock_ttl_ms: "default", agent_timeout_ms: "default" });
      expect(memory.log).toMatch(
        new RegExp(
          String.raw`^harn-registry: config: lock-ttl-ms=30000 \(default\), agent-timeout-ms=45000 \(default\), ` +
            String.raw`.*, no-metrics \(flag\)$`,
        ),
      );
    },
  );

  it("a value a restored snapshot changed is reported as restore; status --snapshot reports the file's", async () => {
    const sidecar = new RawSidecar("ndjson", ["--lock-ttl-ms=5000"]);
    sidecars.push(sidecar);
    const snapshot = (await sidecar.call(1, "snapshot")).result;
    await sidecar.call(2, "restore", {
      snapshot: { ...snapshot, config: { ...snapshot.config, default_lock_ttl_ms: 7000 } },
    });
    expect((await sidecar.call(3, "initialize")).result).toMatchObject({
      config: { default_lock_ttl_ms: 7000, agent_timeout_ms: 45_000 },
      config_sources: { default_lock_ttl_ms: "restore", agent_timeout_ms: "default" },
    });
    const dir = tempDir("harn-config-");
    writeFileSync(join(dir, "ours.json"), JSON.stringify(snapshot));
    writeFileSync(join(dir, "hostlib.json"), JSON.stringify({ agents: { next_id: 1, agents: [] }, versions: {} }));
    expect(JSON.parse(run(["status", `--snapshot=${join(dir, "ours.json")}`, "--json"]).stdout)).toMatchObject({
      config: { default_lock_ttl_ms: 5000 },
      config_sources: { default_lock_ttl_ms: "snapshot", agent_timeout_ms: "snapshot" },
    });
    expect(
      JSON.parse(run(["status", `--snapshot=${join(dir, "hostlib.json")}`, "--json"]).stdout).config_sources,
    ).toEqual({ default_lock_ttl_ms: "default", agent_timeout_ms: "default" });
  });
});

describe("every failure of a command: exit 1, one line naming the file or peer and the cause, no stack", () => {
  /** [what, files to write in a fresh directory, the arguments, the line]; `@` stands for that directory. */
  const failures: [string, Record<string, string>, string[], RegExp][] = [
    [
      "a snapshot file that is not JSON",
      { "bad.json": "{bad" },
      ["status", "--snapshot=@/bad.json"],
      /^harn-registry status: \S+\/bad\.json: is not JSON: .+$/,
    ],
    [
      "a snapshot file holding null",
      { "null.json": "null" },
      ["status", "--snapshot=@/null.json"],
      /^harn-registry status: \S+\/null\.json: is not a snapshot: it holds null, not an object$/,
    ],
    [
      "a snapshot file holding an array",
      { "array.json": "[]" },
      ["status", "--snapshot=@/array.json"],
      /^harn-registry status: \S+\/array\.json: is not a snapshot: it holds an array, not an object$/,
    ],
    [
      "a state.json whose snapshot is null",
      { "state.json": '{"snapshot":null}' },
      ["status", "--snapshot=@/state.json"],
      /^harn-registry status: \S+\/state\.json: is not a snapshot: its "snapshot" holds null, not an object$/,
    ],
    [
      "a snapshot file that is not a valid snapshot",
      { "v2.json": '{"format_version":2}' },
      ["status", "--snapshot=@/v2.json"],
      /^harn-registry status: \S+\/v2\.json: snapshot\.\S+ .+$/,
    ],
    [
      "a snapshot file that is missing",
      {},
      ["status", "--snapshot=@/missing.json"],
      /^harn-registry status: \S+\/missing\.json: no such file or directory \(ENOENT\)$/,
    ],
    [
      "a state directory that is missing",
      {},
      ["status", "--state=@/nowhere"],
      /^harn-registry status: \S+\/nowhere: no such file or directory \(ENOENT\)$/,
    ],
    [
      "a directory that is not a state directory",
      { "project/package.json": "{}" },
      ["status", "--state=@/project"],
      /^harn-registry status: \S+\/project: is not a state directory: it holds no state\.json and no journal$/,
    ],
    [
      "an empty directory (status --state)",
      { "empty/.keep": "" },
      ["status", "--state=@/empty"],
      /^harn-registry status: \S+\/empty: is not a state directory: it holds no state\.json and no journal$/,
    ],
    [
      "a package.json given as a snapshot",
      { "package.json": '{"name":"x","version":"1.0.0"}' },
      ["status", "--snapshot=@/package.json"],
      new RegExp(
        String.raw`^harn-registry status: \S+\/package\.json: snapshot\.agents is required: ` +
          "a snapshot without format_version is read as harn-hostlib's, " +
          "which must have its agents and versions sections$",
      ),
    ],
    [
      "an empty object given as a snapshot",
      { "empty.json": "{}" },
      ["status", "--snapshot=@/empty.json"],
      /^harn-registry status: \S+\/empty\.json: snapshot\.agents is required: .+$/,
    ],
    [
      "a corrupt state directory (status)",
      { "s/state.json": "garbage\n" },
      ["status", "--state=@/s"],
      /^harn-registry status: \S+\/s\/state\.json: is not valid JSON .+$/,
    ],
    [
      "a corrupt state directory (server)",
      { "s/state.json": "garbage\n" },
      ["--state=@/s"],
      /^harn-registry: \S+\/s\/state\.json: is not valid JSON .+$/,
    ],
    [
      "a server that is not there (status)",
      {},
      ["status", "--listen=unix:@/none.sock"],
      /^harn-registry status: cannot reach unix:\S+\/none\.sock: connect ENOENT .+$/,
    ],
    [
      "a server that is not there (connect)",
      {},
      ["connect", "--listen=unix:@/none.sock"],
      /^harn-registry connect: cannot reach unix:\S+\/none\.sock: connect ENOENT .+$/,
    ],
    [
      "a missing token file (connect)",
      {},
      ["connect", "--listen=unix:@/none.sock", "--auth-token-file=@/missing"],
      /^harn-registry connect: cannot read the auth token file \S+\/missing: ENOENT$/,
    ],
    [
      "a missing token file (status)",
      {},
      ["status", "--listen=tcp:127.0.0.1:1", "--auth-token-file=@/missing"],
      /^harn-registry status: cannot read the auth token file \S+\/missing: ENOENT$/,
    ],
    [
      "a missing token file (server)",
      {},
      ["--listen=tcp:127.0.0.1:0", "--auth-token-file=@/missing"],
      /^harn-registry: cannot read the auth token file \S+\/missing: ENOENT$/,
    ],
  ];

  function expectOneLine(result: { status: number | null; stderr: string }, line: RegExp): void {
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr.endsWith("\n") && !result.stderr.slice(0, -1).includes("\n"), result.stderr).toBe(true);
    expect(result.stderr.slice(0, -1)).toMatch(line);
    expect(result.stderr).not.toMatch(/ at \S+:\d+|Cannot read properties|TypeError|undefined/);
  }

  it.each(failures)("%s", (_what, files, args, line) => {
    const dir = tempDir("harn-fail-");
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    const result = spawnSync(process.execPath, [BIN, ...args.map((arg) => arg.replace("@", dir))], {
      encoding: "utf8",
      input: "",
    });
    expectOneLine(result, line);
    expect(result.stdout).toBe("");
  });

  it("a TCP server that refuses the token (status, connect)", async () => {
    const dir = tempDir("harn-fail-");
    writeFileSync(join(dir, "token"), "right");
    writeFileSync(join(dir, "wrong"), "wrong");
    const server = new SocketServer(["--listen=tcp:127.0.0.1:0", `--auth-token-file=${join(dir, "token")}`]);
    servers.push(server);
    const address = await server.listening;
    const status = spawnSync(
      process.execPath,
      [BIN, "status", `--listen=${address}`, `--auth-token-file=${join(dir, "wrong")}`],
      { encoding: "utf8" },
    );
    expectOneLine(status, new RegExp(`^harn-registry status: ${address}: initialize: auth_token does not match`));
    const connect = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [BIN, "connect", `--listen=${address}`, `--auth-token-file=${join(dir, "wrong")}`],
        { stdio: ["pipe", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.end(`${JSON.stringify(req(1, "current_seq"))}\n`);
      child.once("close", (code) => resolve({ status: code, stderr }));
    });
    expectOneLine(
      connect,
      new RegExp(
        `^harn-registry connect: authentication refused: initialize: auth_token does not match .*\\(by ${address}\\)$`,
      ),
    );
  });
});
