// Stream errors are logged as what they are: on a duplex stream (a socket is
// input and output at once) a failed write is an output error, not an
// input error; a broken pipe ends the session quietly.
import { Duplex } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/registry.js";
import { openRuntime } from "../../src/server/runtime.js";
import { startSession } from "../../src/server/session.js";
import { settle } from "../support/wire-session.js";

async function socketLike() {
  const runtime = await openRuntime(
    {
      clock: "manual",
      config: {},
      crashLockDelayMs: 0,
      limits: DEFAULT_LIMITS,
      compactBytes: 1 << 30,
      timeRequests: true,
    },
    () => {},
    () => {},
  );
  onTestFinished(() => runtime.close());
  const stream = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
  const logs: string[] = [];
  let exited: number | undefined;
  startSession({
    input: stream,
    output: stream,
    runtime,
    framing: "ndjson",
    maxMessageBytes: 1 << 20,
    exit: (code) => (exited = code),
    log: (line) => logs.push(line),
  });
  const fail = (code: string, syscall: string) =>
    stream.emit("error", Object.assign(new Error(`${syscall} ${code}`), { code, syscall }));
  return { logs, fail, exited: () => exited };
}

describe("errors of a stream that is both input and output", () => {
  it("logs a broken pipe as the output closed by the peer, not as an input error, and ends the session", async () => {
    const socket = await socketLike();
    socket.fail("EPIPE", "write");
    await settle();
    expect(socket.logs).toEqual(["exiting with code 0: output closed by the peer"]);
    expect(socket.exited()).toBe(0);
  });

  it("logs another failed write as an output error", async () => {
    const socket = await socketLike();
    socket.fail("EIO", "write");
    await settle();
    expect(socket.logs).toEqual(["output error: write EIO"]);
  });

  it("logs a failed read as an input error", async () => {
    const socket = await socketLike();
    socket.fail("EIO", "read");
    await settle();
    expect(socket.logs).toEqual(["input error: read EIO"]);
  });
});
