// A session in this process on a PassThrough pair: raw bytes in, every byte
// out kept and split into frames by the independent parser of
// sidecar-process.ts. For wire behaviour without spawning the bin.
import { PassThrough } from "node:stream";
import { onTestFinished } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/registry.js";
import type { RpcFailure } from "../../src/server/errors.js";
import type { Framing } from "../../src/transport/framing.js";
import { type Host, openHost } from "../../src/server/host.js";
import { type Session, startSession } from "../../src/server/session.js";
import { type Json, type WireFraming, takeFrame } from "./sidecar-process.js";

/** How to start a {@link WireSession}. */
export interface WireSessionOptions {
  /** The --framing flag (default auto). */
  framing?: Framing | "auto";
  /** A --state directory. */
  statePath?: string;
  maxMessageBytes?: number;
  admit?(method: string, params: unknown): RpcFailure | undefined;
}

/** One session on in-memory streams, a manual clock, and what it wrote, logged and exited with. */
export class WireSession {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  stdout = Buffer.alloc(0);
  readonly logs: string[] = [];
  exitCode: number | undefined;
  readonly exited: Promise<number>;
  readonly session: Session;
  private readonly wake = new Set<() => void>();
  private resolveExit: (code: number) => void = () => {};

  private constructor(
    readonly host: Host,
    options: WireSessionOptions,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.output.on("data", (chunk: Buffer) => {
      this.stdout = Buffer.concat([this.stdout, chunk]);
      for (const wake of this.wake) wake();
    });
    this.session = startSession({
      input: this.input,
      output: this.output,
      host,
      framing: options.framing ?? "auto",
      maxMessageBytes: options.maxMessageBytes ?? 1 << 20,
      exit: (code) => {
        this.exitCode = code;
        this.resolveExit(code);
      },
      log: (line) => this.logs.push(line),
      admit: options.admit,
    });
  }

  /** Start a session; its host is closed when the test has finished. */
  static async start(options: WireSessionOptions = {}): Promise<WireSession> {
    const host = await openHost(
      { clock: "manual", config: {}, crashLockDelayMs: 0, limits: DEFAULT_LIMITS, statePath: options.statePath, compactBytes: 1 << 30, timeRequests: true },
      () => {},
      (error) => {
        throw error;
      },
    );
    onTestFinished(() => host.close());
    return new WireSession(host, options);
  }

  /** Write raw bytes to the session's input. */
  send(data: string | Buffer): void {
    this.input.write(data);
  }

  /** Every complete frame written so far, parsed. */
  messages(framing: WireFraming): Json[] {
    const out: Json[] = [];
    for (let at = 0, frame = takeFrame(framing, this.stdout, 0); frame !== undefined; frame = takeFrame(framing, this.stdout, at)) {
      out.push(JSON.parse(frame.body));
      at = frame.end;
    }
    return out;
  }

  /** Wait until at least `count` frames were written; they are returned. */
  async waitFor(count: number, framing: WireFraming, timeoutMs = 5_000): Promise<Json[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = this.messages(framing);
      if (messages.length >= count) return messages;
      if (Date.now() > deadline) throw new Error(`only ${messages.length} of ${count} messages within ${timeoutMs} ms: ${JSON.stringify(messages)}; log: ${this.logs.join(" | ")}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wake.delete(done);
          resolve();
        };
        this.wake.add(done);
        setTimeout(done, 20);
      });
    }
  }
}

/** Let a few event-loop turns pass (for checking that nothing more is written). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A request line or body. */
export const request = (id: Json, method: string, params?: Json): string => JSON.stringify(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });

/** Frame message bodies for the wire. */
export const frame = (framing: WireFraming, ...bodies: string[]): string =>
  bodies.map((body) => (framing === "ndjson" ? `${body}\n` : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)).join("");
