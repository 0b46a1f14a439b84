import type { Writable } from "node:stream";
import { AbstractMessageWriter, type Message, type MessageWriter } from "vscode-jsonrpc/node";
import type { Durability } from "../storage/journal.js";
import { encodeFrame, type Framing } from "./framing.js";

/** Flush at once when this many bytes are waiting, whatever else is pending. */
const FLUSH_BYTES = 64 * 1024;

interface HeldError {
  after: number;
  message: Message;
}

/** Options of a {@link BatchingMessageWriter}. */
export interface WriterOptions {
  framing(): Framing;
  /** Requests handed to dispatch so far (the reader counts them). */
  requestsDelivered(): number;
  /** Output is congested (true) or has drained (false): the reader should pause or resume input. */
  onCongestion(congested: boolean): void;
  /** The peer closed its end of the output (EPIPE and friends). */
  onBrokenPipe(): void;
  /** With a journal: a message goes out only once every change made before it was queued is on disk. */
  durability?: Durability;
}

/**
 * A vscode-jsonrpc MessageWriter that coalesces replies. vscode-jsonrpc
 * dispatches one message per event-loop turn, so replies to a pipelined
 * burst arrive one turn apart; this writer keeps collecting while requests
 * are still unanswered and the previous turn produced a reply, then writes
 * everything in one `write`. A lone request is answered on the next turn.
 * It honours backpressure (stops writing until 'drain' and asks the reader to
 * pause) and turns EPIPE into a quiet close.
 */
export class BatchingMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private chunks: string[] = [];
  /** Per chunk, the journal mark it waits for (only with durability). */
  private marks: number[] = [];
  private bytes = 0;
  private responses = 0;
  private responsesAtLastCheck = 0;
  private scheduled = false;
  private congested = false;
  private closed = false;
  private readonly held: HeldError[] = [];
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
      this.closed = true;
      if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED" || error.code === "ECONNRESET") this.options.onBrokenPipe();
      else this.fireError(error);
    });
  }

  write(message: Message): Promise<void> {
    this.enqueue(message);
    if ("id" in message && !("method" in message)) {
      this.responses++;
      while (this.held.length > 0 && (this.held[0] as HeldError).after <= this.responses) this.enqueue((this.held.shift() as HeldError).message);
    }
    return Promise.resolve();
  }

  /** Responses written so far. */
  get answered(): number {
    return this.responses;
  }

  /**
   * Answer a message that never reached dispatch. The answer waits until
   * the requests received before it (`after` of them in all) are answered,
   * so replies keep the order of the input.
   */
  writeTransportError(id: string | number | null, code: number, message: string, after: number): void {
    const error = { jsonrpc: "2.0", id, error: { code, message } } as Message;
    if (after <= this.responses && this.held.length === 0) this.enqueue(error);
    else this.held.push({ after, message: error });
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
    const text = encodeFrame(this.options.framing(), JSON.stringify(message));
    this.chunks.push(text);
    if (this.options.durability !== undefined) this.marks.push(this.options.durability.mark());
    this.bytes += text.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else this.schedule();
  }

  end(): void {
    this.flush();
  }

  /** Write now if every request received so far is answered (the input chunk that brought them is done). */
  flushAnswered(): void {
    if (this.options.requestsDelivered() <= this.responses) this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.check());
  }

  private check(): void {
    this.scheduled = false;
    const progressed = this.responses > this.responsesAtLastCheck;
    this.responsesAtLastCheck = this.responses;
    const unanswered = this.options.requestsDelivered() > this.responses;
    if (unanswered && progressed) this.schedule();
    else this.flush();
  }

  private flush(): void {
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
