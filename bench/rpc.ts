// npm run bench:rpc — issue 6's figures: the real bin in another process
// against (a) a do-nothing server on stock vscode-jsonrpc and (b) a raw
// Node echo, measured in the same run: pipelined throughput in both
// framings, sequential latency, metrics' cost, and throughput and RSS at
// 100,000 agents / 400,000 live locks with snapshot and restore over RPC.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { machineLine } from "./measure.js";
import { type Wire, type WireFraming, medianRate, percentile, pipelinedPairs, roundTrips, spawnWire, timedCall } from "./pipeline.js";

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const STOCK = fileURLToPath(new URL("./baselines/stock-server.js", import.meta.url));
const ECHO = fileURLToPath(new URL("./baselines/raw-echo.js", import.meta.url));
const PAIRS = 20_000;
const RUNS = 5;
const LATENCY_TRIPS = 3_000;

async function throughput(args: string[], framing: WireFraming): Promise<number> {
  const wire = spawnWire(args);
  try {
    return await medianRate(RUNS, () => pipelinedPairs(wire, framing, PAIRS));
  } finally {
    wire.close();
  }
}

async function latency(args: string[], framing: WireFraming): Promise<{ p50: number; p99: number }> {
  const wire = spawnWire(args);
  try {
    await roundTrips(wire, framing, 500);
    const times = await roundTrips(wire, framing, LATENCY_TRIPS);
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    wire.close();
  }
}

const fmt = (rate: number) => Math.round(rate).toLocaleString("en");
const lines: string[] = [`Machine: ${machineLine()}`, ""];

const stock = await throughput([STOCK], "content-length");
const echoNd = await throughput([ECHO, "ndjson"], "ndjson");
const echoCl = await throughput([ECHO, "content-length"], "content-length");
const oursNd = await throughput([BIN], "ndjson");
const oursCl = await throughput([BIN], "content-length");
const oursNoMetrics = await throughput([BIN, "--no-metrics"], "ndjson");
lines.push(
  `Throughput: pipelined lock_try + lock_release pairs (${PAIRS.toLocaleString("en")} pairs, 256 requests in flight), median of ${RUNS} runs after a warm-up; each server is its own process, the client another.`,
  "",
  "| server | framing | pairs/s | ours vs (a) stock vscode-jsonrpc | ours vs (b) raw echo, same framing |",
  "|---|---|---:|---:|---:|",
  `| (a) stock vscode-jsonrpc, answers null | Content-Length | ${fmt(stock)} | | |`,
  `| (b) raw Node echo | NDJSON | ${fmt(echoNd)} | | |`,
  `| (b) raw Node echo | Content-Length | ${fmt(echoCl)} | | |`,
  `| harn-registry | NDJSON | ${fmt(oursNd)} | ${(oursNd / stock).toFixed(2)}× | ${(oursNd / echoNd).toFixed(2)}× |`,
  `| harn-registry | Content-Length | ${fmt(oursCl)} | ${(oursCl / stock).toFixed(2)}× | ${(oursCl / echoCl).toFixed(2)}× |`,
  "",
  `Targets: ≥ 1.0× (a), ≥ 0.5× (b). Metrics left on cost ${(((oursNoMetrics - oursNd) / oursNoMetrics) * 100).toFixed(1)}% of throughput (NDJSON with --no-metrics: ${fmt(oursNoMetrics)} pairs/s).`,
  "",
);

const stockLatency = await latency([STOCK], "content-length");
const oursLatencyCl = await latency([BIN], "content-length");
const oursLatencyNd = await latency([BIN], "ndjson");
const us = (n: number) => `${n.toFixed(0)} µs`;
lines.push(
  `Latency: sequential round trips (one request in flight, lock_try and lock_release alternating), ${LATENCY_TRIPS.toLocaleString("en")} after 500 to warm up.`,
  "",
  "| server | framing | p50 | p99 | p50 vs (a) |",
  "|---|---|---:|---:|---:|",
  `| (a) stock vscode-jsonrpc | Content-Length | ${us(stockLatency.p50)} | ${us(stockLatency.p99)} | |`,
  `| harn-registry | Content-Length | ${us(oursLatencyCl.p50)} | ${us(oursLatencyCl.p99)} | ${(oursLatencyCl.p50 / stockLatency.p50).toFixed(2)}× |`,
  `| harn-registry | NDJSON | ${us(oursLatencyNd.p50)} | ${us(oursLatencyNd.p99)} | ${(oursLatencyNd.p50 / stockLatency.p50).toFixed(2)}× |`,
  "",
  "Target: p50 within 1.2× of (a).",
  "",
);

/** A format-2 snapshot of `agents` agents holding 4 locks each, all live for an hour. */
function bigSnapshot(agents: number): string {
  const now = Date.now();
  const entries: string[] = [];
  let fence = 1;
  for (let a = 1; a <= agents; a++) {
    const paths = [0, 1, 2, 3].map((k) => `src/d${a % 97}/m${a % 13}/a${a}/f${k}.rs`);
    const locked = paths.map((p) => `${JSON.stringify(p)}:${now + 3_600_000}`).join(",");
    const fences = paths.map((p) => `${JSON.stringify(p)}:${fence++}`).join(",");
    entries.push(`{"id":${a},"name":"agent-${a}","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{${locked}},"lock_fences":{${fences}},"shared_paths":[]}`);
  }
  const snapshot = `{"format_version":2,"taken_at_ms":${now},"config":{"default_lock_ttl_ms":3600000,"agent_timeout_ms":3600000},"agents":{"next_id":${agents + 1},"next_fence":${fence},"agents":[${entries.join(",")}]},"versions":{"current_seq":0,"history":{}}}`;
  return `{"jsonrpc":"2.0","id":"restore","method":"restore","params":{"snapshot":${snapshot}}}`;
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

const SCALE_ARGS = [BIN, "--max-message-bytes=1073741824", "--lock-ttl-ms=3600000", "--agent-timeout-ms=3600000"];
const empty = await throughput(SCALE_ARGS, "ndjson");
const full = spawnWire(SCALE_ARGS);
const restoreRequest = bigSnapshot(100_000);
const restoreMs = await timedCall(full as Wire, "ndjson", restoreRequest);
const snapshotMs = await timedCall(full as Wire, "ndjson", '{"jsonrpc":"2.0","id":"snapshot","method":"snapshot"}');
const loaded = await medianRate(RUNS, () => pipelinedPairs(full, "ndjson", PAIRS));
const memory = rssMiB(full.child.pid as number);
full.close();
lines.push(
  "Scale: the same bin with 100,000 agents holding 400,000 live locks (loaded by one `restore` over RPC), beside an empty one in the same run.",
  "",
  "| registry | pipelined pairs/s | vs empty |",
  "|---|---:|---:|",
  `| empty | ${fmt(empty)} | |`,
  `| 100,000 agents, 400,000 locks | ${fmt(loaded)} | ${(empty / loaded).toFixed(2)}× slower |`,
  "",
  `RSS after loading and the throughput runs: ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB; target ≤ 256 MiB). Over RPC: restore ${restoreMs.toFixed(0)} ms for a ${(restoreRequest.length / 1024 / 1024).toFixed(0)} MiB request, snapshot ${snapshotMs.toFixed(0)} ms (request to the last byte of the reply).`,
);
console.log(lines.join("\n"));
