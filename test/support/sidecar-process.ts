// Spawns the built bin and talks to it in raw bytes. Its frame parser is
// written independently of the server's, so that tests check the wire, not
// the server's own idea of it.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));

export type WireFraming = "ndjson" | "content-length";

export type Json = any;

/** A sidecar process with helpers to send raw bytes and read parsed replies. */
export class RawSidecar {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every byte the sidecar wrote to stdout. */
  stdout = Buffer.alloc(0);
  stderr = "";
  private consumed = 0;
  private readonly waiting: (() => void)[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly framing: WireFraming,
    args: string[] = [],
  ) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.stdout = Buffer.concat([this.stdout, chunk]);
      for (const wake of this.waiting.splice(0)) wake();
    });
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    this.child.stdin.on("error", () => {});
  }

  /** Write bytes as they are. */
  sendRaw(data: string | Buffer): void {
    this.child.stdin.write(data);
  }

  /** Frame and write one message (an object, or raw text as the body). */
  send(message: Json | string): void {
    const body = typeof message === "string" ? message : JSON.stringify(message);
    this.sendRaw(this.framing === "ndjson" ? `${body}\n` : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  /** Send a request and wait for the next reply. */
  async call(id: number | string, method: string, params?: Json): Promise<Json> {
    this.send(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });
    return this.next();
  }

  /** Notifications read past by {@link next}, in order. */
  readonly notifications: Json[] = [];

  /** The next reply on stdout, in order; notifications on the way go to {@link notifications}. */
  async next(timeoutMs = 10_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = takeFrame(this.framing, this.stdout, this.consumed);
      if (frame !== undefined) {
        this.consumed = frame.end;
        const message = JSON.parse(frame.body);
        if (!("id" in message)) {
          this.notifications.push(message);
          continue;
        }
        return message;
      }
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Wait until `count` notifications have been read (reading replies past them). */
  async waitForNotifications(count: number, timeoutMs = 10_000): Promise<Json[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.notifications.length < count) {
      const frame = takeFrame(this.framing, this.stdout, this.consumed);
      if (frame === undefined) {
        if (Date.now() > deadline) throw new Error(`only ${this.notifications.length} of ${count} notifications within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const message = JSON.parse(frame.body);
      if ("id" in message) throw new Error(`a reply came while waiting for notifications: ${frame.body}`);
      this.consumed = frame.end;
      this.notifications.push(message);
    }
    return this.notifications;
  }

  /** Close stdin and wait for the process to end. */
  async endInput(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin.end();
    return this.exited;
  }

  /** All of stdout split into frames; throws if any byte is not part of a well-formed JSON-RPC message. */
  allMessages(): Json[] {
    const out: Json[] = [];
    let at = 0;
    while (at < this.stdout.length) {
      const frame = takeFrame(this.framing, this.stdout, at);
      if (frame === undefined) throw new Error(`stdout has bytes that are not a complete frame at ${at}: ${JSON.stringify(this.stdout.subarray(at, at + 80).toString())}`);
      const message = JSON.parse(frame.body);
      if (message.jsonrpc !== "2.0") throw new Error(`stdout carried a non-JSON-RPC message: ${frame.body}`);
      out.push(message);
      at = frame.end;
    }
    return out;
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

export function takeFrame(framing: WireFraming, data: Buffer, from: number): { body: string; end: number } | undefined {
  if (framing === "ndjson") {
    const newline = data.indexOf(0x0a, from);
    return newline === -1 ? undefined : { body: data.subarray(from, newline).toString(), end: newline + 1 };
  }
  const headerEnd = data.indexOf("\r\n\r\n", from);
  if (headerEnd === -1) return undefined;
  const header = data.subarray(from, headerEnd).toString();
  const match = /^Content-Length: (\d+)$/.exec(header);
  if (match === null) throw new Error(`bad header on stdout: ${JSON.stringify(header)}`);
  const start = headerEnd + 4;
  const end = start + Number(match[1]);
  return end > data.length ? undefined : { body: data.subarray(start, end).toString(), end };
}

/** A request object. */
export const req = (id: number | string, method: string, params?: Json): Json =>
  params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params };
