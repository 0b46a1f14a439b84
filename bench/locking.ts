// npm run bench:locking — issue 4's figures: acquire/release of 1 and of 16
// paths at depth 6 with 100,000 live locks beside an empty table (in
// process), and the hand-over latency from a release to the next waiter's
// grant over RPC with the built bin, beside a plain round trip in the same run.
// Deadlock detection's figures: acquires with 10 and with 10,000 agents
// waiting (in process), which must cost the same.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Registry } from "../src/core/registry.js";
import { fmtUs, machineLine, medianNsPerCall } from "./measure.js";

const NOW = 1_000_000;
const deep = (i: number) => `w${i % 7}/p${i % 11}/q${i % 13}/r${i % 17}/s${i}/f.rs`;

function table(liveLocks: number): Registry {
  const reg = new Registry({ now: () => NOW, config: { default_lock_ttl_ms: 3_600_000, agent_timeout_ms: 3_600_000 } });
  for (let i = 0; i < liveLocks; i++) reg.tryLock(1 + (i % 1_000), deep(i));
  return reg;
}

function acquireRelease(reg: Registry, width: number): number {
  const batches = Array.from({ length: 64 }, (_, b) =>
    Array.from({ length: width }, (_, k) => `new/a${b}/b/c/d/f${k}.rs`),
  );
  let sink = 0;
  const ns = medianNsPerCall(5_000, 21, (i) => {
    const paths = batches[i & 63] as string[];
    const result = reg.acquire({ agentId: 5_000, paths });
    if ("granted" in result && result.granted) sink += result.locks.length;
    reg.releaseAll(5_000);
  });
  if (sink === 0) throw new Error("nothing was granted");
  return ns;
}

const rows: string[] = [];
for (const width of [1, 16]) {
  const empty = acquireRelease(table(0), width);
  const full = acquireRelease(table(100_000), width);
  rows.push(`| ${width} | ${fmtUs(empty)} | ${fmtUs(full)} | ${(full / empty).toFixed(2)}× |`);
}

/**
 * `waiting` agents waiting: holder h_i (id i) holds `q/i/f.rs`; waiter w_i
 * (id WAITER + i) holds `own/i.rs` and waits for `q/i/f.rs`. Nothing
 * expires (the clock stands still).
 */
const WAITER = 1_000_000;
const PROBE = 3_000_000;
function waitingTable(waiting: number): Registry {
  const reg = new Registry({ now: () => NOW, config: { default_lock_ttl_ms: 3_600_000, agent_timeout_ms: 3_600_000 } });
  for (let i = 0; i < waiting; i++) {
    reg.tryLock(1 + i, `q/${i}/f.rs`);
    reg.tryLock(WAITER + i, `own/${i}.rs`);
    const queued = reg.acquire({ agentId: WAITER + i, paths: [`q/${i}/f.rs`], waitMs: 3_600_000 }, () => {});
    if (!("waiting" in queued)) throw new Error("the waiter did not wait");
  }
  if (reg.stats().waits.waiting !== waiting) throw new Error("not every waiter waits");
  return reg;
}

/**
 * The figures at one size, ns per call: a wait started and cancelled (on a different waiter's path each call, then on
 * one), a wait refused as a deadlock, an acquire + release beside the waiters.
 */
function waitFigures(waiting: number): number[] {
  const reg = waitingTable(waiting);
  // A probe agent holding a lock of its own queues behind w_k for q/k/f.rs: the
  // search looks at h_k and w_k (who waits for h_k) and finds no cycle.
  reg.tryLock(PROBE, "probe/own.rs");
  const waits = medianNsPerCall(2_000, 21, (i) => {
    const queued = reg.acquire({ agentId: PROBE, paths: [`q/${i % waiting}/f.rs`], waitMs: 3_600_000 }, () => {});
    if (!("waiting" in queued)) throw new Error("the probe did not wait");
    reg.cancelWait(queued.waiting);
  });
  const hot = medianNsPerCall(2_000, 21, () => {
    const queued = reg.acquire({ agentId: PROBE, paths: ["q/7/f.rs"], waitMs: 3_600_000 }, () => {});
    if (!("waiting" in queued)) throw new Error("the probe did not wait");
    reg.cancelWait(queued.waiting);
  });
  // h_k asks for own/k.rs, held by w_k, who waits for h_k: refused at once.
  let refused = 0;
  const deadlocks = medianNsPerCall(2_000, 21, (i) => {
    const k = i % waiting;
    try {
      const queued = reg.acquire({ agentId: 1 + k, paths: [`own/${k}.rs`], waitMs: 3_600_000 }, () => {});
      if ("waiting" in queued) reg.cancelWait(queued.waiting); // before deadlock detection: it waited
    } catch (error) {
      if ((error as { kind?: string }).kind !== "deadlock") throw error;
      refused++;
    }
  });
  // An acquire and release of a path nobody waits for, beside the waiters.
  const beside = medianNsPerCall(2_000, 21, (i) => {
    const result = reg.acquire({ agentId: PROBE, paths: [`free/a${i & 63}/b/c/d/f.rs`] });
    if (!("granted" in result && result.granted)) throw new Error("not granted");
    reg.releaseLock(PROBE, `free/a${i & 63}/b/c/d/f.rs`);
  });
  if (reg.stats().waits.waiting !== waiting) throw new Error("the waiters changed");
  waitsRefused += refused;
  return [waits, hot, deadlocks, beside];
}
let waitsRefused = 0;

const waitRows: string[] = [];
const few = waitFigures(10);
const many = waitFigures(10_000);
const labels = [
  "acquire that waits + cancel, a different waiter's path each call",
  "same, one waiter's path every call",
  "acquire refused as a deadlock (2-agent cycle), a different one each call",
  "acquire + release of a free path beside them",
];
for (let k = 0; k < labels.length; k++) {
  const a = few[k] as number;
  const b = many[k] as number;
  waitRows.push(`| ${labels[k]} | ${fmtUs(a)} | ${fmtUs(b)} | ${(b / a).toFixed(2)}× |`);
}

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const child = spawn(process.execPath, [BIN], { stdio: ["pipe", "pipe", "ignore"] });
const lines = createInterface({ input: child.stdout });
const waiting = new Map<number, (line: string) => void>();
lines.on("line", (line) => {
  const id = Number(/"id":(\d+)/.exec(line)?.[1]);
  waiting.get(id)?.(line);
  waiting.delete(id);
});
let nextId = 1;
function send(method: string, params: object): { id: number; reply: Promise<string> } {
  const id = nextId++;
  const reply = new Promise<string>((resolve) => waiting.set(id, resolve));
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
  return { id, reply };
}
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number;

const ROUNDS = 500;
const handOver: number[] = [];
const roundTrip: number[] = [];
await send("lock_try", { agent_id: 1, path: "hand/over.rs" }).reply;
for (let i = 0; i < ROUNDS + 50; i++) {
  const holder = 1 + (i % 2);
  const next = 2 - (i % 2);
  const granted = send("lock_acquire", { agent_id: next, paths: ["hand/over.rs"], wait_ms: 10_000 }).reply;
  await send("lock_info", { path: "hand/over.rs" }).reply;
  const start = process.hrtime.bigint();
  const released = send("lock_release", { agent_id: holder, path: "hand/over.rs" }).reply;
  const line = await granted;
  const elapsed = Number(process.hrtime.bigint() - start) / 1_000;
  await released;
  if (!line.includes('"granted":true')) throw new Error(`hand-over failed: ${line}`);
  const t0 = process.hrtime.bigint();
  await send("current_seq", {}).reply;
  const rt = Number(process.hrtime.bigint() - t0) / 1_000;
  if (i >= 50) {
    handOver.push(elapsed);
    roundTrip.push(rt);
  }
}
child.stdin.end();

console.log(
  [
    `Machine: ${machineLine()}`,
    "",
    "acquire + release_all of N paths at depth 6 (in process, median of 21 batches of 5,000):",
    "",
    "| paths per acquire | empty table | 100,000 live locks | ratio (target ≤ 1.5×) |",
    "|---:|---:|---:|---:|",
    ...rows,
    "",
    "With agents waiting (in process, median of 21 batches of 2,000; " +
      "each waiter holds a lock and waits for another agent's):",
    "",
    "| call | 10 waiting agents | 10,000 waiting agents | ratio (target ≤ 1.5×) |",
    "|---|---:|---:|---:|",
    ...waitRows,
    waitsRefused === 0
      ? "(no acquire was refused as a deadlock: this build has no deadlock detection; " +
        "those waits were queued and cancelled)"
      : "",
    "",
    `Hand-over over stdio (NDJSON, built bin, ${ROUNDS} rounds): ` +
      "from sending lock_release to receiving the waiter's grant,",
    "beside a plain current_seq round trip measured in the same rounds:",
    "",
    "| | p50 | p99 |",
    "|---|---:|---:|",
    `| release → waiter granted | ${percentile(handOver, 0.5).toFixed(0)} µs ` +
      `| ${percentile(handOver, 0.99).toFixed(0)} µs |`,
    `| current_seq round trip (baseline) | ${percentile(roundTrip, 0.5).toFixed(0)} µs ` +
      `| ${percentile(roundTrip, 0.99).toFixed(0)} µs |`,
  ].join("\n"),
);
