// Talking to a JSON-RPC peer in another process, shared by the benchmarks:
// spawning it (in a clean environment) and reading its CPU time, pipelined
// lock_try + lock_release pairs with a window of requests in flight (replies
// counted off the wire), sequential round trips, and running several
// servers in alternating rounds.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
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

/** Variables that change how every Node process starts, and so are kept from the children measured. */
export const STARTUP_VARIABLES = ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS"] as const;

/** This process's environment without STARTUP_VARIABLES (NODE_EXTRA_CA_CERTS alone adds ~50 ms to a Node start). */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of STARTUP_VARIABLES) delete env[name];
  return env;
}

/** How spawnWire starts a child: its environment (cleanEnv() unless given) and whether it gets a pipe on fd 3. */
export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  fd3?: boolean;
}

/** A wire to a child process of ours. */
export type ChildWire = Wire & { child: ChildProcess };

/** Spawn `node args…` and talk on its stdin/stdout. */
export function spawnWire(args: string[], { env = cleanEnv(), fd3 = false }: SpawnOptions = {}): ChildWire {
  const stdio: StdioOptions = ["pipe", "pipe", "ignore", ...(fd3 ? (["pipe"] as const) : [])];
  const child = spawn(process.execPath, args, { env, stdio });
  return {
    child,
    input: child.stdin as Writable,
    output: child.stdout as Readable,
    close: () => child.kill("SIGKILL"),
  };
}

/** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** CPU time, user and system, that a live process (all its threads) has used so far: milliseconds, in 10 ms steps. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
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

/**
 * `measure(index)` of `count` servers in `rounds` rounds after `warmups` unrecorded ones, each round starting with the
 * next server, so that all see the same machine state and none always goes first; each server's results in order.
 */
export async function inRounds<T>(
  count: number,
  rounds: number,
  warmups: number,
  measure: (index: number) => Promise<T>,
): Promise<T[][]> {
  const results: T[][] = Array.from({ length: count }, () => []);
  for (let round = -warmups; round < rounds; round++) {
    for (let turn = 0; turn < count; turn++) {
      const index = (round + warmups + turn) % count;
      const result = await measure(index);
      if (round >= 0) (results[index] as T[]).push(result);
    }
  }
  return results;
}

/** Median of `runs` measurements after one warm-up. */
export async function medianRate(runs: number, measure: () => Promise<number>): Promise<number> {
  await measure();
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) rates.push(await measure());
  return percentile(rates, 0.5);
}
