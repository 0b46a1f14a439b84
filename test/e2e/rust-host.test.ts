// examples/rust-host, the README's Rust embedding, built offline from
// Debian's crates (librust-serde-json-dev) and run against the built bin:
// spawned over stdio in both framings, through a TCP server with a token and
// through a unix socket server.
// A machine that cannot build it fails these tests, naming what to install.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../support/sidecar-process.js";
import { SocketServer } from "../support/socket-client.js";
import { tempDir } from "../support/temp-dir.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/rust-host", import.meta.url));
const CRATES = "/usr/share/cargo/registry";
const INSTALL = "apt-get install librust-serde-json-dev";

/** Run cargo in the example's directory, where its .cargo/config.toml (the offline Debian source) applies. */
function cargo(args: string[]) {
  return spawnSync("cargo", [...args, "--offline", "--locked", "--manifest-path", join(EXAMPLE, "Cargo.toml")], {
    cwd: EXAMPLE,
    encoding: "utf8",
  });
}

/** Why the example cannot be built here, or undefined. */
function cannotBuild(): string | undefined {
  const version = spawnSync("cargo", ["--version"], { encoding: "utf8" });
  if (version.error !== undefined || version.status !== 0) {
    return `cargo is not on PATH: install Rust (apt-get install cargo, or rustup) and the crates (${INSTALL})`;
  }
  if (!existsSync(CRATES) || !readdirSync(CRATES).some((name) => name.startsWith("serde_json-"))) {
    return `no serde_json crate under ${CRATES}: run \`${INSTALL}\` (.ci/run does it as root)`;
  }
  const build = cargo(["build"]);
  buildLog = build.stderr;
  if (build.status !== 0)
    return `\`cargo build\` in examples/rust-host failed (is ${INSTALL} installed?):\n${build.stderr}`;
  return undefined;
}

// Built once (a cold build took 6-12 s here); every test fails, never
// skips, with the reason when it could not be.
let problem: string | undefined = "not built";
let buildLog = "";
beforeAll(() => {
  problem = cannotBuild();
}, 180_000);

function host(): string {
  if (problem !== undefined) throw new Error(`cannot build examples/rust-host: ${problem}`);
  return join(EXAMPLE, "target", "debug", "harn-registry-rust-host");
}

/** Run the built host to its end. */
function runHost(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(host(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

/** What the scenario prints (src/main.rs), for a connection in `framing`, ending with `last`. */
const scenario = (framing: string, last: string) => [
  `initialize: framing=${framing}`,
  "agent_register: editor=1 helper=2",
  "notification: agent/registered agent_id=1 name=editor",
  "lock_try editor: locked=true holder=1",
  "lock_try helper: locked=false holder=1",
  "notification: lock/granted agent_id=1 path=src/main.rs fence=1",
  "version_record: seq=1 hash=14695981039346656037 sent as a JSON number",
  'changes_since: hash "14695981039346656037" == 14695981039346656037 exact',
  "lock_acquire helper: waited, granted=true fence=2 after lock_release=true",
  "version_record with stale fence 1: error 1005 stale_fence",
  last,
];

const servers: SocketServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.kill();
});

describe("examples/rust-host", () => {
  it("builds offline without warnings, and its unit tests pass " +
    "(frames of both framings from one stream, a client shared by threads, a u64 kept exact)", () => {
    host();
    expect(buildLog).not.toMatch(/warning|error/);
    const unit = cargo(["test", "--lib"]);
    expect(unit.stderr + unit.stdout).toContain("test result: ok. 3 passed");
    expect(unit.status).toBe(0);
  }, 120_000);

  it.each(["ndjson", "content-length"])(
    "spawns the sidecar and plays the scenario in %s, then shutdown + exit: status 0",
    async (framing) => {
      const run = await runHost([`--framing=${framing}`, `--node=${process.execPath}`, `--sidecar=${BIN}`]);
      expect(run.stdout.trimEnd().split("\n")).toEqual(
        scenario(framing, "shutdown, exit: the sidecar exited with status 0"),
      );
      expect(run.stderr).toContain("exiting with code 0: exit after shutdown");
      expect(run.status).toBe(0);
    },
  );

  it.each(["ndjson", "content-length"])(
    "connects to a TCP server with a token file (%s) and plays the scenario; a wrong token is refused",
    async (framing) => {
      host();
      const dir = tempDir("harn-rust-host-");
      const token = join(dir, "token");
      writeFileSync(token, "a-secret-token\n"); // the host trims it, as the server does
      const server = new SocketServer([`--listen=tcp:127.0.0.1:0`, `--auth-token-file=${token}`]);
      servers.push(server);
      const address = await server.listening;
      expect(address).toMatch(/^tcp:127\.0\.0\.1:\d+$/);

      const run = await runHost(["--connect", address, "--token-file", token, `--framing=${framing}`]);
      expect(run.stdout.trimEnd().split("\n")).toEqual(
        scenario(framing, "shutdown, exit: the server closed the connection"),
      );
      expect(run.status).toBe(0);
      await server.waitForLog(/connection 1: exiting with code 0: exit after shutdown/);

      const wrong = join(dir, "wrong");
      writeFileSync(wrong, "not-the-token");
      const refused = await runHost(["--connect", address, "--token-file", wrong, `--framing=${framing}`]);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toContain("rust-host: error 1009: initialize: auth_token does not match");
      expect(refused.status).toBe(1);
    },
  );

  it("connects to a unix socket server and plays the scenario", async () => {
    host();
    const server = new SocketServer([`--listen=unix:${join(tempDir("harn-rust-host-"), "registry.sock")}`]);
    servers.push(server);
    const run = await runHost(["--connect", await server.listening]);
    expect(run.stdout.trimEnd().split("\n")).toEqual(
      scenario("ndjson", "shutdown, exit: the server closed the connection"),
    );
    expect(run.status).toBe(0);
  });
});
