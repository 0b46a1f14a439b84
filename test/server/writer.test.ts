import { Writable } from "node:stream";
import type { Message } from "vscode-jsonrpc/node";
import { describe, expect, it } from "vitest";
import type { Durability } from "../../src/storage/journal.js";
import { BatchingMessageWriter } from "../../src/server/writer.js";
import { frameBodies } from "../support/wire-frames.js";

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

function setup(durability?: Durability) {
  const output = new RecordingOutput();
  const events: string[] = [];
  const writer = new BatchingMessageWriter(output, {
    framing: () => "ndjson",
    onCongestion: (congested) => events.push(congested ? "pause" : "resume"),
    onBrokenPipe: () => events.push("broken"),
    durability,
  });
  return { output, writer, events };
}

/** A journal stand-in: each change appended bumps the mark; `sync(n)` makes the first n durable. */
class FakeJournal implements Durability {
  appended = 0;
  private durable = 0;
  private readonly listeners = new Set<() => void>();
  mark(): number {
    return this.appended;
  }
  reached(mark: number): boolean {
    return mark <= this.durable;
  }
  onProgress(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  sync(upTo: number): void {
    this.durable = upTo;
    for (const listener of this.listeners) listener();
  }
}

describe("BatchingMessageWriter", () => {
  it("writes what was queued in one turn in one write, in the order given", async () => {
    const { output, writer } = setup();
    for (let i = 0; i < 50; i++) void writer.write(response(i));
    expect(output.writes).toHaveLength(0);
    await turn();
    expect(output.writes).toHaveLength(1);
    expect(frameBodies("ndjson", Buffer.from(output.writes[0] ?? "")).map((line) => JSON.parse(line).id)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("writes at once on flush() (the reader calls it when an input chunk is done)", () => {
    const { output, writer } = setup();
    void writer.write(response(1));
    void writer.write(response(2));
    writer.flush();
    expect(output.writes).toEqual(['{"jsonrpc":"2.0","id":1,"result":1}\n{"jsonrpc":"2.0","id":2,"result":2}\n']);
  });

  it("with a journal, writes a message only once every change made before it is on disk, and keeps the order", async () => {
    const journal = new FakeJournal();
    const { output, writer } = setup(journal);
    journal.appended = 1;
    void writer.write(response(1));
    void writer.write(response(2));
    journal.appended = 2;
    void writer.write(response(3));
    writer.flush();
    await turn();
    expect(output.writes).toEqual([]);
    journal.sync(1);
    expect(output.writes.join("")).toBe('{"jsonrpc":"2.0","id":1,"result":1}\n{"jsonrpc":"2.0","id":2,"result":2}\n');
    journal.sync(2);
    expect(output.writes.join("")).toContain('"id":3');
  });

  it("stops writing while the output is congested, asks to pause input, and resumes on drain", async () => {
    const { output, writer, events } = setup();
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
    const { output, writer } = setup();
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
    const { output, writer, events } = setup();
    output.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(events).toEqual(["broken"]);
    void writer.write(response(1));
    await turn();
    expect(output.writes).toEqual([]);
  });
});
