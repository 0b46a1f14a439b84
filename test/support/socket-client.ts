// Socket-mode helpers: a server process (waits for its "listening on"
// line) and a raw NDJSON client over a unix socket or TCP.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { type Socket, connect } from "node:net";
import { BIN, type Json, takeFrame } from "./sidecar-process.js";

/** A `harn-registry --listen=...` process. */
export class SocketServer {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The address it listens on, as it logged it (the real port for tcp:...:0). */
  readonly listening: Promise<string>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    this.listening = new Promise((resolve, reject) => {
      this.child.stderr.on("data", (chunk: Buffer) => {
        this.stderr += chunk.toString();
        const match = /listening on (\S+)/.exec(this.stderr);
        if (match !== null) resolve(match[1] as string);
      });
      void this.exited.then(() => reject(new Error(`server exited: ${this.stderr}`)));
    });
  }

  async waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in stderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

/** A raw NDJSON client on one connection. */
export class SocketClient {
  private readonly socket: Socket;
  private data = Buffer.alloc(0);
  private consumed = 0;
  readonly closed: Promise<void>;
  readonly notifications: Json[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => (this.data = Buffer.concat([this.data, chunk])));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  /** Connect to `unix:PATH` or `tcp:HOST:PORT`. */
  static async open(address: string): Promise<SocketClient> {
    const socket = address.startsWith("unix:")
      ? connect(address.slice(5))
      : connect(Number(address.slice(address.lastIndexOf(":") + 1)), address.slice(4, address.lastIndexOf(":")));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new SocketClient(socket);
  }

  send(message: Json): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  async call(id: number | string, method: string, params?: Json): Promise<Json> {
    this.send(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });
    return this.next();
  }

  /** The next reply (notifications on the way go to {@link notifications}). */
  async next(timeoutMs = 10_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = takeFrame("ndjson", this.data, this.consumed);
      if (frame !== undefined) {
        this.consumed = frame.end;
        const message = JSON.parse(frame.body);
        if ("id" in message) return message;
        this.notifications.push(message);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  close(): void {
    this.socket.end();
  }
}
