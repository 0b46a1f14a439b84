// How the process starts and ends: EOF, exit codes, a killed parent, the
// client process going away, a broken stdout pipe, backpressure, bad flags.
import { spawn, spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, RawSidecar } from "../support/sidecar-process.js";
import { req } from "../support/wire-frames.js";

let sidecar: RawSidecar | undefined;
afterEach(() => sidecar?.kill());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe("ending", () => {
  it("answers everything received, then exits 0 on stdin EOF", async () => {
    sidecar = new RawSidecar("ndjson");
    for (let i = 0; i < 500; i++) sidecar.send(req(i, "lock_try", { agent_id: 1 + (i % 3), path: `p${i % 5}` }));
    expect(await sidecar.endInput()).toEqual({ code: 0, signal: null });
    const replies = sidecar.allMessages();
    expect(replies.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(sidecar.stderr).toContain("exiting with code 0: input closed");
  });

  it("exits 0 on exit after shutdown and 1 on exit without it", async () => {
    sidecar = new RawSidecar("content-length");
    expect(await sidecar.call(1, "shutdown")).toEqual({ jsonrpc: "2.0", id: 1, result: null });
    sidecar.send({ jsonrpc: "2.0", method: "exit" });
    expect((await sidecar.exited).code).toBe(0);
    sidecar = new RawSidecar("content-length");
    await sidecar.call(1, "current_seq");
    sidecar.send({ jsonrpc: "2.0", method: "exit" });
    expect((await sidecar.exited).code).toBe(1);
  });

  it("exits when its parent is killed with SIGKILL (stdin closes)", async () => {
    const parentScript = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, [${JSON.stringify(BIN)}], { stdio: ["pipe", "pipe", "inherit"] });
      child.stdout.once("data", () => console.log(child.pid));
      child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"current_seq"}\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["-e", parentScript], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    expect(alive(pid)).toBe(true);
    parent.kill("SIGKILL");
    expect(await waitUntil(() => !alive(pid), 5_000)).toBe(true);
  });

  it("exits when the --clientProcessId process is gone", async () => {
    const client = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    sidecar = new RawSidecar("ndjson", [`--clientProcessId=${client.pid}`]);
    expect((await sidecar.call(1, "current_seq")).result).toBe(0);
    client.kill("SIGKILL");
    const { code } = await sidecar.exited;
    expect(code).toBe(0);
    expect(sidecar.stderr).toContain(`client process ${client.pid} is gone`);
  });

  it("ends quietly when its stdout is closed by the reader (EPIPE)", async () => {
    sidecar = new RawSidecar("ndjson");
    expect((await sidecar.call(1, "current_seq")).result).toBe(0);
    sidecar.child.stdout.destroy();
    for (let i = 0; i < 2_000; i++) sidecar.send(req(i, "status"));
    const { code, signal } = await sidecar.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(sidecar.stderr).not.toMatch(/Error|at .*\.js/);
  });
});

describe("backpressure", () => {
  it("loses nothing when the client stops reading for a while", async () => {
    sidecar = new RawSidecar("ndjson");
    sidecar.child.stdout.pause();
    const count = 30_000;
    for (let i = 0; i < count; i++) sidecar.send(req(i, "lock_holder", { path: `some/fairly/long/path/number/${i}` }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    sidecar.child.stdout.resume();
    const last = await waitUntil(() => sidecar?.stdout.toString().includes(`"id":${count - 1},`) ?? false, 20_000);
    expect(last).toBe(true);
    const replies = sidecar.allMessages();
    expect(replies).toHaveLength(count);
    expect(replies.every((r, i) => r.id === i && r.result === null)).toBe(true);
  });
});

describe("command line", () => {
  it.each([
    [["--framing=xml"], 'harn-registry: --framing: must be auto, content-length or ndjson, got "xml"'],
    [["--clock=atomic"], 'harn-registry: --clock: must be system or manual, got "atomic"'],
    [["--lock-ttl-ms=0"], 'harn-registry: --lock-ttl-ms: must be a positive integer, got "0"'],
    [["--agent-timeout-ms=soon"], 'harn-registry: --agent-timeout-ms: must be a positive integer, got "soon"'],
    [["--max-message-bytes"], "harn-registry: --max-message-bytes needs a value (see --help)"],
    [["--listen-all"], "harn-registry: unknown flag --listen-all (see --help)"],
    [["--listen=tcp:1"], 'harn-registry: --listen: must be tcp:HOST:PORT, as in tcp:127.0.0.1:7411, got "tcp:1"'],
    [
      ["--listen=tcp:0.0.0.0:7411", "--auth-token-file=t"],
      'harn-registry: --listen: binds loopback only (127.0.0.1, localhost or [::1]), got host "0.0.0.0"',
    ],
    [
      ["--listen=tcp:127.0.0.1:7411"],
      "harn-registry: --listen=tcp:... needs --auth-token-file=FILE (a file holding a secret token)",
    ],
    [["--listen=udp:x"], 'harn-registry: --listen: must be unix:PATH or tcp:127.0.0.1:PORT, got "udp:x"'],
    [["--stdio", "--listen=unix:/tmp/x.sock"], "harn-registry: --stdio and --listen exclude each other; pick one"],
    [["--max-connections=4"], "harn-registry: --max-connections needs --listen (it applies to socket connections)"],
    [["--auth-timeout-ms=100"], "harn-registry: --auth-timeout-ms needs --listen (it applies to socket connections)"],
    [
      ["--auth-timeout-ms=0", "--listen=unix:/tmp/x.sock"],
      'harn-registry: --auth-timeout-ms: must be a positive integer, got "0"',
    ],
    [
      ["--keep-agents-on-disconnect=yes", "--listen=unix:/tmp/x.sock"],
      "harn-registry: --keep-agents-on-disconnect takes no value (see --help)",
    ],
    [["--max-agents=0"], 'harn-registry: --max-agents: must be a positive integer, got "0"'],
    [["--max-locks-per-agent=many"], 'harn-registry: --max-locks-per-agent: must be a positive integer, got "many"'],
    [["connect"], "harn-registry: connect needs --listen=ADDR (see connect --help)"],
    [["connect", "--state=x"], "harn-registry: unknown flag --state (see connect --help)"],
    [["serve"], 'harn-registry: unexpected argument "serve" (see --help)'],
  ])("%j → one line on stderr naming the flag, exit 2, nothing on stdout", (args, message) => {
    const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input: "" });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.stdout).toBe("");
  });

  it("prints help and version", () => {
    const help = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    for (const flag of [
      "--stdio",
      "--listen",
      "--state",
      "--compact-bytes",
      "--framing",
      "--clock",
      "--lock-ttl-ms",
      "--agent-timeout-ms",
      "--crash-lock-delay-ms",
      "--max-agents",
      "--max-locks-per-agent",
      "--max-message-bytes",
      "--auth-token-file",
      "--max-connections",
      "--auth-timeout-ms",
      "--keep-agents-on-disconnect",
      "--clientProcessId",
      "--version",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    const connectHelp = spawnSync(process.execPath, [BIN, "connect", "--help"], { encoding: "utf8" });
    expect(connectHelp.status).toBe(0);
    expect(connectHelp.stdout).toMatch(/^Usage: harn-registry connect --listen=ADDR/);
    expect(connectHelp.stdout).toContain("--auth-token-file");
    expect(spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8" }).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("accepts --flag value as well as --flag=value", async () => {
    sidecar = new RawSidecar("ndjson", ["--stdio", "--clock", "manual", "--lock-ttl-ms", "77"]);
    expect((await sidecar.call(1, "initialize")).result).toMatchObject({
      clock: "manual",
      config: { default_lock_ttl_ms: 77 },
    });
  });

  it("--framing=ndjson answers in NDJSON even when the first byte is not {", async () => {
    sidecar = new RawSidecar("ndjson", ["--framing=ndjson"]);
    sidecar.sendRaw(`  \n${JSON.stringify(req(1, "current_seq"))}\n`);
    expect(await sidecar.next()).toEqual({ jsonrpc: "2.0", id: 1, result: 0 });
  });
});
