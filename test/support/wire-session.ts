// A session in this process on a PassThrough pair: raw bytes in, every byte
// out kept and split into frames by the tests' own idea of the wire
// (wire-frames.ts). The default for wire behaviour (dispatch, reply order,
// framing, how a session ends): no bin to spawn. What needs the process
// itself (signals, exit codes, stdout claiming, sockets) is in test/e2e.
import { PassThrough } from "node:stream";
import { onTestFinished } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/registry.js";
import type { RpcFailure } from "../../src/server/rpc-errors.js";
import { type Runtime, type RuntimeOptions, openRuntime } from "../../src/server/runtime.js";
import { type Session, startSession } from "../../src/server/session.js";
import type { Framing } from "../../src/transport/framing.js";
import { openAsyncStore } from "./async-store.js";
import { freshDatabase } from "./postgres-database.js";
import { tempDir } from "./temp-dir.js";
import { type WireFraming, WirePeer } from "./wire-frames.js";

/**
 * The stores a session can serve: the core registry in memory (answering at once); one that answers every call on a
 * later macrotask, as PostgreSQL state does (async-store.ts); a state directory; PostgreSQL state on a database of its
 * own. Suites that hold for every store run over all of them.
 */
export const STORES = ["memory", "async", "directory", "postgres"] as const;
export type StoreKind = (typeof STORES)[number];

/** How to start a {@link WireSession}. */
export interface WireSessionOptions {
  /** The --framing flag (default auto). */
  framing?: Framing | "auto";
  /** The framing the test writes and reads with send, call and next: default the flag's, NDJSON for auto. */
  wire?: WireFraming;
  /** A --state directory. */
  statePath?: string;
  /** The store served (default memory; with statePath, the directory's). */
  store?: StoreKind;
  maxMessageBytes?: number;
  /** --max-queued-bytes (none by default). */
  maxQueuedBytes?: number;
  admit?(method: string, params: unknown): RpcFailure | undefined;
  /** Flags of the registry beside the defaults: a manual clock, default config and limits, metrics on. */
  runtime?: Partial<RuntimeOptions>;
  /**
   * Close the runtime when the running test finishes (default); false when started outside a test, then call close().
   */
  closeAfterTest?: boolean;
}

/** One session on in-memory streams, a manual clock, and what it wrote, logged and exited with. */
export class WireSession extends WirePeer {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  readonly logs: string[] = [];
  exitCode: number | undefined;
  readonly exited: Promise<number>;
  readonly session: Session;
  private resolveExit: (code: number) => void = () => {};

  private constructor(
    readonly runtime: Runtime,
    options: WireSessionOptions,
  ) {
    const flag = options.framing ?? "auto";
    super(options.wire ?? (flag === "auto" ? "ndjson" : flag));
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.output.on("data", (chunk: Buffer) => this.received(chunk));
    this.session = startSession({
      input: this.input,
      output: this.output,
      runtime,
      framing: flag,
      maxMessageBytes: options.maxMessageBytes ?? 1 << 20,
      maxQueuedBytes: options.maxQueuedBytes,
      exit: (code) => {
        this.exitCode = code;
        this.resolveExit(code);
      },
      log: (line) => this.logs.push(line),
      admit: options.admit,
    });
  }

  /** Start a session; its runtime is closed when the test has finished (see closeAfterTest). */
  static async start(options: WireSessionOptions = {}): Promise<WireSession> {
    const runtime = await openRuntime(
      {
        clock: "manual",
        config: {},
        crashLockDelayMs: 0,
        limits: DEFAULT_LIMITS,
        statePath: options.statePath ?? (await statePathOf(options.store)),
        compactBytes: 1 << 30,
        timeRequests: true,
        ...(options.store === "async" ? { openStore: openAsyncStore } : {}),
        ...options.runtime,
      },
      () => {},
      (error) => {
        throw error;
      },
    );
    if (options.closeAfterTest ?? true) onTestFinished(() => runtime.close());
    return new WireSession(runtime, options);
  }

  /** Write raw bytes to the session's input. */
  sendRaw(data: string | Buffer): void {
    this.input.write(data);
  }

  /** End the input (EOF) and wait for the session to end: its exit code. */
  async endInput(): Promise<number> {
    this.input.end();
    return this.exited;
  }

  /** Close the runtime (its deadline timer, its state directory). */
  close(): Promise<void> {
    return this.runtime.close();
  }

  protected serverLog(): string {
    return `log: ${this.logs.join(" | ")}`;
  }
}

/** Where a store kind keeps its state: a fresh directory, a fresh database, or nowhere. */
async function statePathOf(store: StoreKind | undefined): Promise<string | undefined> {
  if (store === "directory") return tempDir("wire-state-");
  if (store === "postgres") return freshDatabase();
  return undefined;
}

/** Let a few event-loop turns pass (for checking that nothing more is written). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
