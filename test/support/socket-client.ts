// Socket-mode helpers: a server process (waits for its "listening on"
// line), a raw NDJSON client over a unix socket or TCP, and a raw peer
// that never reads and never closes unless told to. Frames are made and
// split by wire-frames.ts.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { type Socket, connect } from "node:net";
import { BIN } from "./sidecar-process.js";
import { type Json, WirePeer, frame, frameBodies } from "./wire-frames.js";

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

/** A raw NDJSON client on one connection (see WirePeer). */
export class SocketClient extends WirePeer {
  private readonly socket: Socket;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    super("ndjson");
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  /** Connect to `unix:PATH` or `tcp:HOST:PORT`. */
  static async open(address: string): Promise<SocketClient> {
    return new SocketClient(await connectTo(address, false));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  protected serverLog(): string {
    return "(the server's log is its process's stderr)";
  }

  close(): void {
    this.socket.end();
  }
}

/**
 * A raw connection that does only what it is told: it never reads until
 * {@link readToEnd} and never closes its end (not even when the server
 * closes its own) until {@link halfClose} or {@link destroy}.
 */
export class RawPeer {
  private constructor(private readonly socket: Socket) {
    socket.on("error", () => {});
  }

  static async open(address: string): Promise<RawPeer> {
    return new RawPeer(await connectTo(address, true));
  }

  /** Write bytes as they are. */
  write(text: string): void {
    this.socket.write(text);
  }

  /** Write messages as NDJSON, in one write. */
  send(...messages: Json[]): void {
    this.write(frame("ndjson", ...messages.map((message) => JSON.stringify(message))));
  }

  /** Send FIN: nothing more will be written, but the peer stays open and keeps not reading. */
  halfClose(): void {
    this.socket.end();
  }

  /** Start reading: the NDJSON messages the server wrote, once it has closed its end. */
  async readToEnd(timeoutMs = 10_000): Promise<Json[]> {
    let data = Buffer.alloc(0);
    this.socket.on("data", (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
    // With nothing to read, "end" is emitted as soon as the server's FIN arrives.
    await new Promise<void>((resolve, reject) => {
      if (this.socket.readableEnded) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`the server did not close within ${timeoutMs} ms; read so far: ${data}`)),
        timeoutMs,
      );
      this.socket.once("end", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return frameBodies("ndjson", data, true).map((body) => JSON.parse(body));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Connect to `unix:PATH` or `tcp:HOST:PORT`; with `allowHalfOpen` the socket does not close its end when the server
 * closes its own.
 */
async function connectTo(address: string, allowHalfOpen: boolean): Promise<Socket> {
  const socket = address.startsWith("unix:")
    ? connect({ path: address.slice(5), allowHalfOpen })
    : connect({
        port: Number(address.slice(address.lastIndexOf(":") + 1)),
        host: address.slice(4, address.lastIndexOf(":")),
        allowHalfOpen,
      });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}
