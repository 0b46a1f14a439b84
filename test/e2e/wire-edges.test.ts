// Wire edge cases through the built bin, one per fault class the in-process
// tests (test/server) cover in depth: reply order behind a waiting acquire,
// numbers and depth, framing detection, exact ids, the registry's flags,
// EOF, exit.
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, RawSidecar } from "../support/sidecar-process.js";
import { req } from "../support/wire-frames.js";

let sidecar: RawSidecar | undefined;
afterEach(() => sidecar?.kill());

/** Run the bin on `input` (stdin then EOF); its stdout lines and exit code. */
function run(input: string | Buffer, args: string[] = []): { lines: string[]; code: number | null } {
  const result = spawnSync(process.execPath, [BIN, "--clock=manual", ...args], {
    input,
    encoding: "utf8",
    timeout: 20_000,
  });
  return { lines: result.stdout.split("\n").filter(Boolean), code: result.status };
}

describe("the wire, through the bin", () => {
  it("answers a garbage line after a waiting acquire at once, in order", async () => {
    sidecar = new RawSidecar("ndjson", ["--clock=manual"]);
    await sidecar.call(1, "agent_register");
    await sidecar.call(2, "agent_register");
    await sidecar.call(3, "lock_try", { agent_id: 1, path: "a" });
    sidecar.send(req(4, "lock_acquire", { agent_id: 2, paths: ["a"], wait_ms: 600_000 }));
    sidecar.sendRaw(`garbage\n${JSON.stringify(req(5, "current_seq"))}\n`);
    expect(await sidecar.next()).toMatchObject({ id: null, error: { code: -32700 } });
    expect(await sidecar.next()).toMatchObject({ id: 5 });
  });

  it("answers a long fraction with -32602 and the id, and 10,000-deep params likewise", () => {
    const deep = `${"[".repeat(10_000)}9007199254740993${"]".repeat(10_000)}`;
    const { lines } = run(
      `{"jsonrpc":"2.0","id":1,"method":"lock_try","params":{"agent_id":0.30000000000000004,"path":"a"}}\n` +
        `{"jsonrpc":"2.0","id":2,"method":"status","params":{"x":${deep}}}\n`,
    );
    expect(lines.map((line) => JSON.parse(line))).toMatchObject([
      { id: 1, error: { code: -32602 } },
      { id: 2, error: { code: -32602 } },
    ]);
  });

  it("serves NDJSON after a BOM, and after a garbage first line", () => {
    expect(run(`\uFEFF${JSON.stringify(req(1, "current_seq"))}\n`).lines).toEqual([
      '{"jsonrpc":"2.0","id":1,"result":0}',
    ]);
    const { lines } = run(`hello\n${JSON.stringify(req(1, "current_seq"))}\n`);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ id: null, error: { code: -32700 } });
    expect(lines[1]).toBe('{"jsonrpc":"2.0","id":1,"result":0}');
  });

  it("answers Content-Length frames whose headers end with a bare LF", () => {
    const body = JSON.stringify(req(1, "current_seq"));
    const result = spawnSync(process.execPath, [BIN], {
      input: `Content-Length: ${body.length}\n\n${body}`,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.stdout).toBe('Content-Length: 35\r\n\r\n{"jsonrpc":"2.0","id":1,"result":0}');
  });

  it("echoes ids exactly: -0, 1.0, 1e2 and an integer beyond 2^53", () => {
    const ids = ["-0", "1.0", "1e2", "18446744073709551615"];
    const { lines } = run(ids.map((id) => `{"jsonrpc":"2.0","id":${id},"method":"current_seq"}\n`).join(""));
    expect(lines).toEqual(ids.map((id) => `{"jsonrpc":"2.0","id":${id},"result":0}`));
  });

  it("answers a last line without its newline at EOF, and exits 0", () => {
    const { lines, code } = run('{"jsonrpc":"2.0","id":2,"method":"agent_register"}');
    expect(lines).toEqual(['{"jsonrpc":"2.0","id":2,"result":1}']);
    expect(code).toBe(0);
  });

  it(
    "hands the registry flags to the session: " +
      "--lock-ttl-ms, --agent-timeout-ms, --crash-lock-delay-ms, --max-message-bytes",
    () => {
      const input = [
        req(1, "initialize"),
        req(2, "lock_try", { agent_id: 1, path: "f", ttl_ms: 1_000_000 }),
        req(3, "clock_set", { now_ms: 1_001 }),
        req(4, "lock_try", { agent_id: 2, path: "f" }),
        req(5, "agent_register", { name: "x".repeat(3000) }),
      ];
      const { lines } = run(input.map((m) => `${JSON.stringify(m)}\n`).join(""), [
        "--lock-ttl-ms=700",
        "--agent-timeout-ms=1000",
        "--crash-lock-delay-ms=5000",
        "--max-message-bytes=2000",
      ]);
      const replies = lines.map((line) => JSON.parse(line));
      expect(replies[0].result.config).toEqual({ default_lock_ttl_ms: 700, agent_timeout_ms: 1000 });
      expect(replies[3]).toMatchObject({ id: 4, result: { locked: false, holder: 1 } });
      expect(replies[4]).toMatchObject({ id: null, error: { code: -32600 } });
    },
  );

  it("runs nothing after exit: agent_register, exit, agent_register, lock_try in one chunk", () => {
    const { lines, code } = run(
      [
        req(1, "agent_register"),
        { jsonrpc: "2.0", method: "exit" },
        req(2, "agent_register"),
        req(3, "lock_try", { agent_id: 1, path: "a" }),
      ]
        .map((m) => `${JSON.stringify(m)}\n`)
        .join(""),
    );
    expect(lines).toEqual(['{"jsonrpc":"2.0","id":1,"result":1}']);
    expect(code).toBe(1);
  });
});
