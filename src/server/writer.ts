import type { Writable } from "node:stream";
import type { Message, MessageWriter } from "vscode-jsonrpc/node";
import type { Durability } from "../storage/journal.js";
import { encodeFrame, type Framing } from "../transport/framing.js";
import { AbstractMessageWriter } from "./message-streams.js";
import { type RequestId, replyJson, stringifyMessage } from "./request-id.js";

/** Flush at once when this many bytes are waiting, whatever else is pending. */
const FLUSH_BYTES = 64 * 1024;
/** Up to how many frames the queue's arrays are kept, emptied, for the next ones (see BatchingMessageWriter.count). */
const KEPT_FRAMES = 4096;
/**
 * The most handed to the output in one write (a longer frame goes in pieces), so that a slow reader's progress is seen
 * piece by piece.
 */
const PIECE_BYTES = 64 * 1024;
/**
 * How long a session's end waits for an output that takes nothing (a peer that does not read) before it gives up on
 * what is owed.
 */
export const FLUSH_BOUND_MS = 5000;

/**
 * Whether a stream error came from writing to it: a duplex input (a socket) is also the output, and its reader sees
 * these too.
 */
export function isWriteError(error: NodeJS.ErrnoException): boolean {
  return (
    error.syscall === "write" ||
    error.code === "EPIPE" ||
    error.code === "ERR_STREAM_DESTROYED" ||
    error.code === "ERR_STREAM_WRITE_AFTER_END"
  );
}

/** Options of a {@link BatchingMessageWriter}. */
export interface WriterOptions {
  framing(): Framing;
  /** Output is congested (true) or has drained (false): the reader may pause or resume input. */
  onCongestion(congested: boolean): void;
  /** The peer closed its end of the output (EPIPE and friends); other output errors are reported through onError. */
  onBrokenPipe(): void;
  /** With a journal: a message goes out only once every change made before it was queued is on disk. */
  durability?: Durability;
  /**
   * --max-queued-bytes: what one connection may have queued (see {@link BatchingMessageWriter.backedUp} and
   * onOverflow).
   */
  maxQueuedBytes?: number;
  /**
   * A reply was queued while the output was congested and more than
   * maxQueuedBytes of replies were already waiting: the peer does not read
   * them. The writer has dropped its queue and writes nothing more.
   */
  onOverflow?(queuedReplyBytes: number): void;
}

/** How {@link BatchingMessageWriter.drain} ended. */
export type Drained = "written" | "closed" | "stalled";

/**
 * A vscode-jsonrpc MessageWriter that writes messages in the order it is
 * given them. It decides no order itself: the connection hands it each
 * reply as soon as it is computed (request order, a waiting lock_acquire's
 * answer when its wait ends) and each notification as it is sent, and the
 * writer puts their frames on one queue and never reorders it.
 *
 * The queue is written oldest first, in writes of at most PIECE_BYTES: when
 * the reader has handed over every message of an input chunk ({@link
 * hold}, {@link release}), so the replies to a chunk leave together; at
 * once when FLUSH_BYTES (counted in characters) are queued; otherwise on
 * the next turn of the event loop (a reply or event queued outside a
 * chunk). With a
 * journal (`durability`), a frame leaves only once every change made
 * before it was queued is on disk: a flush writes the queue up to the first
 * frame still waiting, and the journal's progress flushes again. While the
 * output is congested nothing is written (`onCongestion`), until 'drain'.
 *
 * What one connection may have queued is bounded (`maxQueuedBytes`): a
 * notification source asks {@link backedUp} first, and a reply queued
 * while the output is congested and more replies than that are waiting
 * ends the writer (`onOverflow`). A peer that closed its end (EPIPE, a
 * destroyed stream, ECONNRESET) is reported through `onBrokenPipe` (a
 * quiet end); then, as after any output error, close or end, messages are
 * dropped: nothing is ever written after the output ended. Other write
 * errors go to onError; errors of reading (a socket is also the input) are
 * the reader's to report. {@link drain} writes everything out, bounded by
 * the peer's progress.
 */
export class BatchingMessageWriter extends AbstractMessageWriter implements MessageWriter {
  /**
   * The queued frames are chunks[0, count); the entries after them are empty strings. The arrays are kept from one
   * flush to the next (see {@link flush}): growing new ones for every input chunk cost more than the rest of the queue.
   */
  private chunks: string[] = [];
  private count = 0;
  /** Per chunk, the journal mark it waits for (only with durability). */
  private marks: number[] = [];
  /** Per chunk, its length when it is a reply, 0 for a notification. */
  private replyLengths: number[] = [];
  private bytes = 0;
  private replyBytes = 0;
  private scheduled = false;
  /** The reader is handing over an input chunk, and {@link release} follows: nothing needs scheduling. */
  private holding = false;
  private congested = false;
  private closed = false;
  /** When the output last took a piece (performance.now()). */
  private lastProgress = 0;
  private readonly wakers = new Set<() => void>();
  private readonly stopListening: (() => void) | undefined;
  private readonly onDrain = () => {
    this.congested = false;
    this.options.onCongestion(false);
    this.flush();
    this.wake();
  };
  private readonly onOutputClose = () => {
    this.closed = true;
    this.wake();
  };
  private readonly onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.syscall === "read") return;
    this.onOutputClose();
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED" || error.code === "ECONNRESET")
      this.options.onBrokenPipe();
    else this.fireError(error);
  };
  /** A write was taken by the output. */
  private readonly written = () => {
    this.lastProgress = performance.now();
    this.wake();
  };

  constructor(
    private readonly output: Writable,
    private readonly options: WriterOptions,
  ) {
    super();
    this.stopListening = options.durability?.onProgress(() => {
      this.flush();
      this.wake();
    });
    output.on("drain", this.onDrain);
    output.on("close", this.onOutputClose);
    output.on("error", this.onOutputError);
  }

  write(message: Message): Promise<void> {
    if (!this.closed) {
      const frame = encodeFrame(this.options.framing(), stringifyMessage(message));
      this.enqueue(frame, (message as { id?: unknown }).id !== undefined);
    }
    return Promise.resolve();
  }

  /** Queue the reply to request `id` with `result`, made from its template (see replyJson), with no message object. */
  writeReply(id: RequestId, result: unknown): void {
    if (this.closed) return;
    const framing = this.options.framing();
    this.enqueue(
      framing === "ndjson" ? replyJson(id, result, true) : encodeFrame(framing, replyJson(id, result)),
      true,
    );
  }

  /** Bytes queued for this peer: the writer's queue and what the output holds. */
  get queuedBytes(): number {
    return this.bytes + this.output.writableLength;
  }

  /**
   * The peer is not taking what it is sent and --max-queued-bytes are queued: drop notifications rather than queue
   * more.
   */
  get backedUp(): boolean {
    const max = this.options.maxQueuedBytes;
    return max !== undefined && this.congested && this.queuedBytes >= max;
  }

  /**
   * Write everything queued and wait until the output has taken it.
   * "written" once it has; "closed" when the output closed (or the writer
   * ended) first; "stalled" when the output held something and took none
   * of it for `boundMs` (a peer that does not read): the rest is dropped
   * and the writer writes nothing more. Time spent waiting for the journal
   * does not count.
   */
  async drain(boundMs = Number.POSITIVE_INFINITY): Promise<Drained> {
    this.lastProgress = performance.now();
    while (!this.closed) {
      if (this.output.writableEnded || this.output.destroyed) break;
      this.flush();
      if (this.count === 0 && this.output.writableLength === 0) return "written";
      const stalled = this.congested || this.output.writableLength > 0;
      const left = this.lastProgress + boundMs - performance.now();
      if (stalled && left <= 0) {
        this.discard();
        return "stalled";
      }
      await this.change(stalled ? left : Number.POSITIVE_INFINITY);
    }
    return "closed";
  }

  /** Drop the queue and write nothing more. */
  discard(): void {
    this.closed = true;
    this.chunks = [];
    this.count = 0;
    this.marks = [];
    this.replyLengths = [];
    this.bytes = 0;
    this.replyBytes = 0;
    this.wake();
  }

  /** Release what the writer registered (the journal's listener, the output's): call when the session is over. */
  override dispose(): void {
    this.discard();
    this.stopListening?.();
    this.output.off("drain", this.onDrain);
    this.output.off("close", this.onOutputClose);
    this.output.off("error", this.onOutputError);
    super.dispose();
  }

  end(): void {
    this.flush();
  }

  /**
   * Resolves on the next change that may let a drain go on (progress, drain, close, the journal), or after `timeoutMs`.
   */
  private change(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(done, timeoutMs) : undefined;
      const wakers = this.wakers;
      function done(): void {
        if (timer !== undefined) clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  private wake(): void {
    if (this.wakers.size === 0) return;
    for (const wake of [...this.wakers]) wake();
  }

  /** How many queued chunks may go now: all, or those whose journal mark is on disk. */
  private readyCount(): number {
    const durability = this.options.durability;
    if (durability === undefined) return this.count;
    let ready = 0;
    while (ready < this.marks.length && durability.reached(this.marks[ready] as number)) ready++;
    return ready;
  }

  private enqueue(text: string, isReply: boolean): void {
    const max = this.options.maxQueuedBytes;
    if (isReply && max !== undefined && this.congested && this.replyBytes >= max) {
      const queued = this.replyBytes;
      this.discard();
      this.options.onOverflow?.(queued);
      return;
    }
    this.chunks[this.count] = text;
    this.replyLengths[this.count] = isReply ? text.length : 0;
    this.count++;
    if (this.options.durability !== undefined) this.marks.push(this.options.durability.mark());
    this.bytes += text.length;
    if (isReply) this.replyBytes += text.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else if (!this.holding) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /**
   * The reader is about to hand over an input chunk: what is queued until {@link release} is written then, with no
   * flush scheduled for it.
   */
  hold(): void {
    this.holding = true;
  }

  /** The input chunk has been handed over: write what may go now (see {@link flush}). */
  release(): void {
    this.holding = false;
    this.flush();
  }

  /**
   * Write what may go now: everything queued, or with a journal what is durable, piece by piece until the output is
   * congested.
   */
  flush(): void {
    if (this.closed || this.congested || this.count === 0) return;
    if (this.output.writableEnded || this.output.destroyed) {
      this.discard();
      return;
    }
    const ready = this.readyCount();
    const chunks = this.chunks;
    let taken = 0;
    while (taken < ready && !this.congested && !this.closed) {
      let end = taken;
      let size = 0;
      while (end < ready && (end === taken || size + (chunks[end] as string).length <= PIECE_BYTES))
        size += (chunks[end++] as string).length;
      let data: string;
      if (end - taken === 1 && size > PIECE_BYTES) {
        const whole = chunks[taken] as string;
        const cut = pieceEnd(whole, PIECE_BYTES);
        data = whole.slice(0, cut);
        chunks[taken] = whole.slice(cut);
        this.bytes -= cut;
        if ((this.replyLengths[taken] as number) > 0) {
          this.replyLengths[taken] = (this.replyLengths[taken] as number) - cut;
          this.replyBytes -= cut;
        }
      } else {
        if (end - taken === 1) data = chunks[taken] as string;
        else data = taken === 0 && end === this.count ? chunks.join("") : chunks.slice(taken, end).join("");
        for (let index = taken; index < end; index++) this.replyBytes -= this.replyLengths[index] as number;
        this.bytes -= size;
        taken = end;
      }
      if (!this.output.write(data, this.written)) {
        this.congested = true;
        this.options.onCongestion(true);
      }
    }
    if (taken === 0 || this.closed) return;
    if (taken === this.count && taken <= KEPT_FRAMES) chunks.fill("", 0, taken);
    else {
      this.chunks = chunks.slice(taken, this.count);
      this.replyLengths = this.replyLengths.slice(taken, this.count);
    }
    this.count -= taken;
    if (this.marks.length > 0) this.marks = this.marks.slice(taken);
  }
}

/** Where to cut `text` near `at` without splitting a surrogate pair (each piece is encoded to UTF-8 on its own). */
function pieceEnd(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}
