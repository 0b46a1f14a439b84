import { Writable } from "node:stream";
import type { Message } from "vscode-jsonrpc/node";
import { describe, expect, it } from "vitest";
import { BatchingMessageWriter } from "../../src/server/writer.js";

/** A Writable that records each write and can be told to report congestion. */
class RecordingOutput extends Writable {
  writes: string[] = [];
  full = false;
  constructor() {
    super({ decodeStrings: false });
  }
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (chunk !== "") this.writes.push(String(chunk));
    super.write(chunk as string, ...(rest as []));
    return !this.full;
  }
  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const response = (id: number): Message => ({ jsonrpc: "2.0", id, result: id }) as Message;

function setup(delivered: () => number) {
  const output = new RecordingOutput();
  const events: string[] = [];
  const writer = new BatchingMessageWriter(output, {
    framing: () => "ndjson",
    requestsDelivered: delivered,
    onCongestion: (congested) => events.push(congested ? "pause" : "resume"),
    onBrokenPipe: () => events.push("broken"),
  });
  return { output, writer, events };
}

describe("BatchingMessageWriter", () => {
  it("writes the replies to a pipelined burst, produced one turn apart, in one write", async () => {
    const { output, writer } = setup(() => 50);
    for (let i = 0; i < 50; i++) {
      void writer.write(response(i));
      await turn();
    }
    await turn();
    await turn();
    expect(output.writes).toHaveLength(1);
    expect(output.writes[0]?.split("\n").filter(Boolean)).toHaveLength(50);
  });

  it("answers a lone request on the next turn", async () => {
    const { output, writer } = setup(() => 1);
    void writer.write(response(1));
    expect(output.writes).toHaveLength(0);
    await turn();
    expect(output.writes).toEqual(['{"jsonrpc":"2.0","id":1,"result":1}\n']);
  });

  it("does not wait forever for a request that is still running", async () => {
    const { output, writer } = setup(() => 2);
    void writer.write(response(1));
    await turn();
    await turn();
    await turn();
    expect(output.writes).toHaveLength(1);
  });

  it("stops writing while the output is congested, asks to pause input, and resumes on drain", async () => {
    const { output, writer, events } = setup(() => 3);
    output.full = true;
    void writer.write(response(1));
    await turn();
    await turn();
    expect(output.writes).toHaveLength(1);
    expect(events).toEqual(["pause"]);
    void writer.write(response(2));
    void writer.write(response(3));
    await turn();
    await turn();
    expect(output.writes).toHaveLength(1);
    output.full = false;
    output.emit("drain");
    expect(events).toEqual(["pause", "resume"]);
    expect(output.writes).toHaveLength(2);
    expect(output.writes[1]).toBe('{"jsonrpc":"2.0","id":2,"result":2}\n{"jsonrpc":"2.0","id":3,"result":3}\n');
  });

  it("drain gives up when a congested output is closed (a peer that never read is cut off)", async () => {
    const { output, writer } = setup(() => 2);
    output.full = true;
    void writer.write(response(1));
    await turn();
    await turn();
    void writer.write(response(2));
    let drained = false;
    const draining = writer.drain().then(() => (drained = true));
    await turn();
    expect(drained).toBe(false);
    output.destroy();
    await draining;
    void writer.write(response(3));
    await turn();
    expect(output.writes).toHaveLength(1);
  });

  it("reports EPIPE as a broken pipe and writes nothing more", async () => {
    const { output, writer, events } = setup(() => 1);
    output.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(events).toEqual(["broken"]);
    void writer.write(response(1));
    await turn();
    expect(output.writes).toEqual([]);
  });

  it("holds a transport error until the requests before it are answered", async () => {
    const { output, writer } = setup(() => 1);
    writer.writeTransportError(null, -32700, "Parse error: x", 1);
    await turn();
    expect(output.writes).toEqual([]);
    void writer.write(response(1));
    await turn();
    expect(output.writes.join("")).toBe('{"jsonrpc":"2.0","id":1,"result":1}\n{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: x"}}\n');
  });
});
