import type { Writable } from "node:stream";
import { AbstractMessageWriter, type Message, type MessageWriter } from "vscode-jsonrpc/node";
import type { Durability } from "../storage/journal.js";
import { encodeFrame, type Framing } from "../transport/framing.js";
import { stringifyMessage } from "./request-id.js";

/** Flush at once when this many bytes are waiting, whatever else is pending. */
const FLUSH_BYTES = 64 * 1024;

/** Whether a stream error came from writing to it: a duplex input (a socket) is also the output, and its reader sees these too. */
export function isWriteError(error: NodeJS.ErrnoException): boolean {
  return error.syscall === "write" || error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED" || error.code === "ERR_STREAM_WRITE_AFTER_END";
}

/** Options of a {@link BatchingMessageWriter}. */
export interface WriterOptions {
  framing(): Framing;
  /** Output is congested (true) or has drained (false): the reader should pause or resume input. */
  onCongestion(congested: boolean): void;
  /** The peer closed its end of the output (EPIPE and friends); other output errors are reported through onError. */
  onBrokenPipe(): void;
  /** With a journal: a message goes out only once every change made before it was queued is on disk. */
  durability?: Durability;
}

/**
 * A vscode-jsonrpc MessageWriter that writes messages in the order it is
 * given them. It decides no order itself: the connection hands it each
 * reply as soon as it is computed (request order, a waiting lock_acquire's
 * answer when its wait ends) and each notification as it is sent, and the
 * writer puts their frames on one queue and never reorders it.
 *
 * The queue is written in one `write`, oldest first: when the reader has
 * handed over every message of an input chunk ({@link flush}), so the
 * replies to a chunk leave together; at once when FLUSH_BYTES (counted in
 * characters) are queued; otherwise on the next turn of the event loop (a
 * reply or event queued outside a chunk). With a journal (`durability`), a frame leaves
 * only once every change made before it was queued is on disk: a flush
 * writes the queue up to the first frame still waiting, and the journal's
 * progress flushes again. While the output is congested nothing is
 * written and the reader is asked to pause (`onCongestion`), until
 * 'drain'. A peer that closed its end (EPIPE, a destroyed stream,
 * ECONNRESET) is reported through `onBrokenPipe` (a quiet end); then, as
 * after any output error or close, messages are dropped. Other write
 * errors go to onError; errors of reading (a socket is also the input) are
 * the reader's to report. {@link drain} resolves once everything queued
 * has been handed to the output, or the output has closed.
 */
export class BatchingMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private chunks: string[] = [];
  /** Per chunk, the journal mark it waits for (only with durability). */
  private marks: number[] = [];
  private bytes = 0;
  private scheduled = false;
  private congested = false;
  private closed = false;
  private readonly stopListening: (() => void) | undefined;

  constructor(
    private readonly output: Writable,
    private readonly options: WriterOptions,
  ) {
    super();
    this.stopListening = options.durability?.onProgress(() => this.flush());
    output.on("drain", () => {
      this.congested = false;
      this.options.onCongestion(false);
      this.flush();
    });
    output.on("close", () => (this.closed = true));
    output.on("error", (error: NodeJS.ErrnoException) => {
      if (error.syscall === "read") return;
      this.closed = true;
      if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED" || error.code === "ECONNRESET") this.options.onBrokenPipe();
      else this.fireError(error);
    });
  }

  write(message: Message): Promise<void> {
    this.enqueue(message);
    return Promise.resolve();
  }

  /** Resolves once everything queued has been handed to the output, or the output is closed. */
  async drain(): Promise<void> {
    while (!this.closed) {
      this.flush();
      if (this.chunks.length === 0) {
        await new Promise<void>((resolve) => this.output.write("", () => resolve()));
        return;
      }
      await (this.congested ? this.drainedOrClosed() : this.progress());
    }
  }

  override dispose(): void {
    this.stopListening?.();
    super.dispose();
  }

  /** Resolves when the congested output drains, or closes (then nothing more can be written). */
  private drainedOrClosed(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.output.off("drain", done);
        this.output.off("close", done);
        resolve();
      };
      this.output.on("drain", done);
      this.output.on("close", done);
    });
  }

  /** Resolves when the journal has written more (the queued messages wait for it). */
  private progress(): Promise<void> {
    const durability = this.options.durability;
    if (durability === undefined) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const stop = durability.onProgress(() => {
        stop();
        resolve();
      });
    });
  }

  /** How many queued chunks may go now: all, or those whose journal mark is on disk. */
  private readyCount(): number {
    const durability = this.options.durability;
    if (durability === undefined) return this.chunks.length;
    let ready = 0;
    while (ready < this.marks.length && durability.reached(this.marks[ready] as number)) ready++;
    return ready;
  }

  private enqueue(message: Message): void {
    if (this.closed) return;
    const text = encodeFrame(this.options.framing(), stringifyMessage(message));
    this.chunks.push(text);
    if (this.options.durability !== undefined) this.marks.push(this.options.durability.mark());
    this.bytes += text.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else this.schedule();
  }

  end(): void {
    this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Write what may go now: everything queued, or with a journal what is durable (the reader calls this when an input chunk is done). */
  flush(): void {
    if (this.closed || this.congested || this.chunks.length === 0) return;
    const ready = this.readyCount();
    if (ready === 0) return;
    const data = ready === 1 ? (this.chunks[0] as string) : this.chunks.slice(0, ready).join("");
    if (ready === this.chunks.length) {
      this.chunks = [];
      this.bytes = 0;
    } else {
      this.chunks = this.chunks.slice(ready);
      this.bytes -= data.length;
    }
    if (this.marks.length > 0) this.marks = this.marks.slice(ready);
    if (!this.output.write(data)) {
      this.congested = true;
      this.options.onCongestion(true);
    }
  }
}
