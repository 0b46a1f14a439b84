import { closeSync, fdatasync, write } from "node:fs";
import { promisify } from "node:util";
import { chainSeed, encodeLine } from "./journal-line.js";

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

/**
 * What a reply must wait for before it is sent: every change made before it
 * was computed is on disk. `mark()` is taken when the reply is queued;
 * `reached(mark)` says whether it may go; listeners hear of progress.
 */
export interface Durability {
  mark(): number;
  reached(mark: number): boolean;
  onProgress(listener: () => void): () => void;
}

interface Batch {
  fd: number;
  lines: string[];
  /** The mark reached once this batch is on disk. */
  last: number;
}

/** Options of a {@link Journal}. */
export interface JournalOptions {
  /** A write or fsync failed: nothing after it can be acknowledged. */
  onFailure(error: Error): void;
  /** Called after each batch is on disk (compaction checks its size here). */
  onBatchDone(): void;
}

/**
 * The append-only journal file with group commit: lines appended during one
 * turn of the event loop, and all those appended while the previous write
 * and fdatasync were in flight, go to disk in one write followed by one
 * fdatasync. One batch is in flight at a time, so batches reach the disk in
 * order, also across {@link rotate} to a new file.
 */
export class Journal implements Durability {
  private appended = 0;
  private durable = 0;
  private readonly batches: Batch[] = [];
  private flushing = false;
  private scheduled = false;
  private failure: Error | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly idle: (() => void)[] = [];
  /** Since start: lines appended, writes and fdatasyncs made, bytes written. */
  readonly counts = { lines: 0, writes: 0, fsyncs: 0, bytes: 0 };

  constructor(
    private fd: number,
    /** Size of the current file, pending lines included. */
    public bytes: number,
    /** The chain value of the file's last line (its generation's seed when empty). */
    private chain: number,
    private readonly options: JournalOptions,
  ) {}

  /** Append one entry's JSON as the next line of the chain (see journal-line.ts); it is written on a later turn. */
  append(json: string): void {
    if (this.failure !== undefined) throw this.failure;
    const { text: line, crc } = encodeLine(json, this.chain);
    this.chain = crc;
    let batch = this.batches.at(-1);
    if (batch === undefined || batch.fd !== this.fd) {
      batch = { fd: this.fd, lines: [], last: 0 };
      this.batches.push(batch);
    }
    batch.lines.push(line);
    batch.last = ++this.appended;
    this.counts.lines++;
    this.bytes += Buffer.byteLength(line);
    this.schedule();
  }

  /**
   * Send later lines to `fd` (a new, empty file whose directory entry is on disk); the old file is closed once its
   * lines are written.
   */
  rotate(fd: number, generation: number): void {
    this.fd = fd;
    this.bytes = 0;
    this.chain = chainSeed(generation);
  }

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

  /** Resolves once everything appended so far is on disk. */
  flushed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.durable === this.appended) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Write what is pending, then close the file. */
  async close(): Promise<void> {
    await this.flushed();
    closeSync(this.fd);
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let batch = this.batches.shift(); batch !== undefined; batch = this.batches.shift()) {
        const data = Buffer.from(batch.lines.length === 1 ? (batch.lines[0] as string) : batch.lines.join(""));
        for (let offset = 0; offset < data.length; ) {
          offset += (await writeAsync(batch.fd, data, offset, data.length - offset)).bytesWritten;
          this.counts.writes++;
        }
        this.counts.bytes += data.length;
        await fdatasyncAsync(batch.fd);
        this.counts.fsyncs++;
        this.durable = batch.last;
        if (batch.fd !== this.fd && !this.batches.some((later) => later.fd === batch.fd)) closeSync(batch.fd);
        for (const listener of this.listeners) listener();
        this.options.onBatchDone();
      }
    } catch (error) {
      this.failure = error as Error;
      this.options.onFailure(this.failure);
      return;
    } finally {
      this.flushing = false;
    }
    if (this.durable === this.appended) for (const resolve of this.idle.splice(0)) resolve();
  }
}
