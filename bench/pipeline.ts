// Pipelined request throughput against a JSON-RPC peer in another process:
// lock_try + lock_release pairs, a window of requests in flight, replies
// counted off the wire.
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import type { Readable, Writable } from "node:stream";
import { type Framing, encodeFrame, frameAt } from "../src/transport/framing.js";

export type WireFraming = Framing;

/** A byte stream pair to a server. */
export interface Wire {
  input: Writable;
  output: Readable;
  close(): void;
}

/** Spawn `node args…` and talk on its stdin/stdout. */
export function spawnWire(args: string[]): Wire & { child: ChildProcess } {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "ignore"] });
  return { child, input: child.stdin, output: child.stdout, close: () => child.kill("SIGKILL") };
}

/** Connect to a unix socket. */
export async function socketWire(path: string): Promise<Wire> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { input: socket, output: socket, close: () => socket.destroy() };
}

/**
 * Counts complete replies in a byte stream of either framing, without decoding them (the client must not be the
 * bottleneck).
 */
class ReplyCounter {
  count = 0;
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly framing: WireFraming) {}

  push(chunk: Buffer): void {
    if (this.framing === "ndjson") {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.count++;
      return;
    }
    const data: Buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    for (let frame = frameAt(data, this.framing); frame !== undefined; frame = frameAt(data, this.framing, at)) {
      at = frame.next;
      this.count++;
    }
    this.pending = data.subarray(at);
  }
}

/**
 * Send `pairs` lock_try + lock_release pairs (agents and paths cycling over
 * 64), keeping up to `window` requests unanswered; pairs per second. With
 * `envelope`, each request goes as a Harn VM's host bridge sends it:
 * `builtin_call {name: "hostlib_code_index_<method>", args: [params]}`.
 */
export async function pipelinedPairs(
  wire: Wire,
  framing: WireFraming,
  pairs: number,
  window = 256,
  envelope?: "builtin_call",
): Promise<number> {
  const counter = new ReplyCounter(framing);
  const requests = pairs * 2;
  let sent = 0;
  let id = 0;
  const bodies: string[] = [];
  for (let k = 0; k < 64; k++) {
    const agent = 1 + (k % 8);
    const path = `bench/p${k}.rs`;
    for (const method of ["lock_try", "lock_release"]) {
      const params = { agent_id: agent, path };
      const request =
        envelope === undefined
          ? { method, params }
          : { method: envelope, params: { name: `hostlib_code_index_${method}`, args: [params] } };
      bodies.push(JSON.stringify({ jsonrpc: "2.0", id: 0, ...request }));
    }
  }
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const pump = () => {
      const batch: string[] = [];
      while (sent < requests && sent - counter.count < window) {
        const template = bodies[sent % bodies.length] as string;
        batch.push(encodeFrame(framing, template.replace('"id":0', `"id":${++id}`)));
        sent++;
      }
      if (batch.length > 0) wire.input.write(batch.join(""));
    };
    wire.output.on("data", (chunk: Buffer) => {
      counter.push(chunk);
      if (counter.count >= requests) resolve();
      else pump();
    });
    pump();
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  wire.output.removeAllListeners("data");
  return pairs / seconds;
}

/** Sequential round trips (one request in flight): each one's time in µs. */
export async function roundTrips(wire: Wire, framing: WireFraming, count: number): Promise<number[]> {
  const counter = new ReplyCounter(framing);
  const times: number[] = [];
  let started = 0n;
  let id = 0;
  const next = () => {
    id++;
    const method = id % 2 === 0 ? "lock_release" : "lock_try";
    started = process.hrtime.bigint();
    wire.input.write(
      encodeFrame(
        framing,
        JSON.stringify({ jsonrpc: "2.0", id, method, params: { agent_id: 1, path: "bench/latency.rs" } }),
      ),
    );
  };
  await new Promise<void>((resolve) => {
    wire.output.on("data", (chunk: Buffer) => {
      const before = counter.count;
      counter.push(chunk);
      if (counter.count === before) return;
      times.push(Number(process.hrtime.bigint() - started) / 1000);
      if (times.length >= count) resolve();
      else next();
    });
    next();
  });
  wire.output.removeAllListeners("data");
  return times;
}

/** Send one request and wait for its whole reply (any size): milliseconds. */
export async function timedCall(wire: Wire, framing: WireFraming, body: string): Promise<number> {
  const counter = new ReplyCounter(framing);
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    wire.output.on("data", (chunk: Buffer) => {
      counter.push(chunk);
      if (counter.count > 0) resolve();
    });
    wire.input.write(encodeFrame(framing, body));
  });
  wire.output.removeAllListeners("data");
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
};

/** Median of `runs` measurements after one warm-up. */
export async function medianRate(runs: number, measure: () => Promise<number>): Promise<number> {
  await measure();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) rates.push(await measure());
  return percentile(rates, 0.5);
}
