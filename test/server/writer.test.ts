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

function setup(durability?: Durability, maxQueuedBytes?: number) {
  const output = new RecordingOutput();
  const events: string[] = [];
  const writer = new BatchingMessageWriter(output, {
    framing: () => "ndjson",
    onCongestion: (congested) => events.push(congested ? "pause" : "resume"),
    onBrokenPipe: () => events.push("broken"),
    durability,
    maxQueuedBytes,
    onOverflow: (queued) => events.push(`overflow ${queued}`),
  });
  return { output, writer, events };
}

/** A Writable that takes a write only when told to ({@link take}), like a peer that reads when it pleases. */
class SlowOutput extends Writable {
  writes: string[] = [];
  private waiting: (() => void)[] = [];
  constructor() {
    super({ decodeStrings: false, highWaterMark: 16 * 1024 });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writes.push(String(chunk));
    this.waiting.push(() => callback());
  }
  /** Take the writes waiting so far; how many. */
  take(): number {
    const taking = this.waiting.splice(0);
    for (const done of taking) done();
    return taking.length;
  }
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
    expect(frameBodies("ndjson", Buffer.from(output.writes[0] ?? "")).map((line) => JSON.parse(line).id)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it("writes at once on flush()", () => {
    const { output, writer } = setup();
    void writer.write(response(1));
    void writer.write(response(2));
    writer.flush();
    expect(output.writes).toEqual(['{"jsonrpc":"2.0","id":1,"result":1}\n{"jsonrpc":"2.0","id":2,"result":2}\n']);
  });

  it("writes what was queued between hold() and release() (an input chunk) at release, unscheduled", async () => {
    const { output, writer } = setup();
    writer.hold();
    void writer.write(response(1));
    writer.writeReply(2, { a: 1 });
    await turn();
    expect(output.writes).toEqual([]);
    writer.release();
    expect(output.writes).toEqual(['{"jsonrpc":"2.0","id":1,"result":1}\n{"jsonrpc":"2.0","id":2,"result":{"a":1}}\n']);
    void writer.write(response(3));
    await turn();
    expect(output.writes).toHaveLength(2);
  });

  it(
    "with a journal, writes a message only once every change made before it is on disk, " + "and keeps the order",
    async () => {
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
    },
  );

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

  it("hands the output a long frame in pieces of at most 64 KiB, never splitting a surrogate pair", async () => {
    const { output, writer } = setup();
    const text = `${"x".repeat(65_535)}😀${"é😀".repeat(100_000)}`;
    void writer.write({ jsonrpc: "2.0", id: 1, result: text } as Message);
    await turn();
    expect(output.writes.length).toBeGreaterThan(4);
    expect(output.writes.every((piece) => piece.length <= 64 * 1024)).toBe(true);
    expect(output.writes.every((piece) => !/[\ud800-\udbff]$/.test(piece) && !/^[\udc00-\udfff]/.test(piece))).toBe(
      true,
    );
    expect(JSON.parse(output.writes.join(""))).toEqual({ jsonrpc: "2.0", id: 1, result: text });
  });

  it(
    "drain waits for a slow reader as long as it takes something within the bound, " +
      "and gives up on one that takes nothing",
    async () => {
      const output = new SlowOutput();
      const writer = new BatchingMessageWriter(output, {
        framing: () => "ndjson",
        onCongestion: () => {},
        onBrokenPipe: () => {},
      });
      const big = "y".repeat(40_000);
      for (let i = 0; i < 20; i++) void writer.write({ jsonrpc: "2.0", id: i, result: big } as Message);
      const slow = writer.drain(150);
      // 20 × 40 KB in 64 KiB pieces, one piece taken every 60 ms: ~800 ms in all, far past the bound, never 150 ms
      // without progress.
      const reader = setInterval(() => output.take(), 60);
      expect(await slow).toBe("written");
      clearInterval(reader);
      expect(
        output.writes
          .join("")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line).id),
      ).toEqual(Array.from({ length: 20 }, (_, i) => i));

      for (let i = 0; i < 20; i++) void writer.write({ jsonrpc: "2.0", id: i, result: big } as Message);
      const started = performance.now();
      expect(await writer.drain(150)).toBe("stalled");
      expect(performance.now() - started).toBeLessThan(1000);
      void writer.write(response(99));
      await turn();
      output.take();
      expect(output.writes.join("")).not.toContain('"id":99');
    },
  );

  it(
    "with maxQueuedBytes: backedUp once the congested output holds that much; " +
      "a reply queued past it ends the writer (onOverflow)",
    async () => {
      const { output, writer, events } = setup(undefined, 1000);
      output.full = true;
      void writer.write(response(0));
      await turn();
      expect(events).toEqual(["pause"]);
      expect(writer.backedUp).toBe(false);
      for (let i = 1; i <= 20; i++) void writer.write(response(i));
      expect(writer.backedUp).toBe(false);
      for (let i = 0; i < 10; i++)
        void writer.write({ jsonrpc: "2.0", method: "lock/granted", params: { i } } as Message);
      expect(writer.queuedBytes).toBeGreaterThanOrEqual(1000);
      expect(writer.backedUp).toBe(true);
      for (let i = 21; i <= 27; i++) void writer.write(response(i));
      expect(events).toEqual(["pause"]);
      void writer.write(response(28));
      expect(events).toEqual(["pause", expect.stringMatching(/^overflow \d+$/)]);
      output.full = false;
      output.emit("drain");
      void writer.write(response(42));
      await turn();
      expect(output.writes).toHaveLength(1);
    },
  );

  it(
    "notifications do not count toward the replies' bound, " + "and an output that is not congested never overflows",
    async () => {
      const { output, writer, events } = setup(undefined, 100);
      for (let i = 0; i < 50; i++) void writer.write(response(i));
      expect(events).toEqual([]);
      await turn();
      output.full = true;
      void writer.write(response(50));
      await turn();
      for (let i = 0; i < 50; i++)
        void writer.write({ jsonrpc: "2.0", method: "lock/granted", params: { i } } as Message);
      void writer.write(response(51));
      expect(events).toEqual(["pause"]);
      expect(writer.backedUp).toBe(true);
    },
  );

  it("writes nothing after the output ended, and dispose releases the journal's listener", async () => {
    const journal = new FakeJournal();
    const { output, writer } = setup(journal);
    expect((journal as unknown as { listeners: Set<unknown> }).listeners.size).toBe(1);
    output.end();
    void writer.write(response(1));
    await turn();
    journal.sync(5);
    expect(output.writes).toEqual([]);
    writer.dispose();
    expect((journal as unknown as { listeners: Set<unknown> }).listeners.size).toBe(0);
  });
});
