// Spawns the built bin and talks to it in raw bytes, framed and split by
// the tests' own idea of the wire (wire-frames.ts).
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type WireFraming, WirePeer } from "./wire-frames.js";

export const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));

/** A sidecar process with helpers to send raw bytes and read parsed replies (see WirePeer). */
export class RawSidecar extends WirePeer {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(framing: WireFraming, args: string[] = []) {
    super(framing);
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (chunk: Buffer) => this.received(chunk));
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    this.child.stdin.on("error", () => {});
  }

  sendRaw(data: string | Buffer): void {
    this.child.stdin.write(data);
  }

  protected serverLog(): string {
    return `stderr: ${this.stderr}`;
  }

  /** Close stdin and wait for the process to end. */
  async endInput(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin.end();
    return this.exited;
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}
