// npm run bench:rpc — issue 6's figures: the real bin in another process
// against (a) a do-nothing server on stock vscode-jsonrpc and (b) a raw
// Node echo, measured in the same run: pipelined throughput in both
// framings, sequential latency, metrics' cost, the cost of Harn's
// builtin_call envelope against bare calls, and throughput and RSS at
// 100,000 agents / 400,000 live locks with snapshot and restore over RPC.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { machineLine } from "./measure.js";
import {
  type Wire,
  type WireFraming,
  percentile,
  pipelinedPairs,
  roundTrips,
  spawnWire,
  timedCall,
} from "./pipeline.js";

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const STOCK = fileURLToPath(new URL("./baselines/stock-server.js", import.meta.url));
const ECHO = fileURLToPath(new URL("./baselines/raw-echo.js", import.meta.url));
const PAIRS = 20_000;
const RUNS = 5;
const LATENCY_TRIPS = 6_000;
const LATENCY_ROUNDS = 60;
const ENVELOPE_RUNS = 11;

/** Pipelined throughput of several servers at once, in alternating rounds (median of RUNS after a warm-up each). */
async function throughputs(servers: { args: string[]; framing: WireFraming }[]): Promise<number[]> {
  const wires = servers.map(({ args }) => spawnWire(args));
  try {
    const rates: number[][] = servers.map(() => []);
    for (let round = -1; round < RUNS; round++) {
      for (const [index, wire] of wires.entries()) {
        const rate = await pipelinedPairs(wire, (servers[index] as { framing: WireFraming }).framing, PAIRS);
        if (round >= 0) (rates[index] as number[]).push(rate);
      }
    }
    return rates.map((list) => percentile(list, 0.5));
  } finally {
    for (const wire of wires) wire.close();
  }
}

/**
 * Sequential round trips against several servers at once, in short rounds whose order rotates, so that all see the same
 * machine state and none always goes first.
 */
async function latencies(servers: { args: string[]; framing: WireFraming }[]): Promise<{ p50: number; p99: number }[]> {
  const wires = servers.map(({ args }) => spawnWire(args));
  try {
    for (const [index, wire] of wires.entries())
      await roundTrips(wire, (servers[index] as { framing: WireFraming }).framing, 500);
    const times: number[][] = servers.map(() => []);
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      for (let turn = 0; turn < wires.length; turn++) {
        const index = (round + turn) % wires.length;
        const trips = await roundTrips(
          wires[index] as Wire,
          (servers[index] as { framing: WireFraming }).framing,
          LATENCY_TRIPS / LATENCY_ROUNDS,
        );
        (times[index] as number[]).push(...trips);
      }
    }
    return times.map((list) => ({ p50: percentile(list, 0.5), p99: percentile(list, 0.99) }));
  } finally {
    for (const wire of wires) wire.close();
  }
}

const fmt = (rate: number) => Math.round(rate).toLocaleString("en");
const lines: string[] = [`Machine: ${machineLine()}`, ""];

const [stock, echoNd, echoCl, oursNd, oursCl, oursNoMetrics] = (await throughputs([
  { args: [STOCK], framing: "content-length" },
  { args: [ECHO, "ndjson"], framing: "ndjson" },
  { args: [ECHO, "content-length"], framing: "content-length" },
  { args: [BIN], framing: "ndjson" },
  { args: [BIN], framing: "content-length" },
  { args: [BIN, "--no-metrics"], framing: "ndjson" },
])) as [number, number, number, number, number, number];
const metricsCost = ((oursNoMetrics - oursNd) / oursNoMetrics) * 100;
lines.push(
  `Throughput: pipelined lock_try + lock_release pairs ` +
    `(${PAIRS.toLocaleString("en")} pairs, 256 requests in flight), ` +
    `median of ${RUNS} runs after a warm-up, the servers measured in alternating rounds; ` +
    "each server is its own process, the client another.",
  "",
  "| server | framing | pairs/s | ours vs (a) stock vscode-jsonrpc | ours vs (b) raw echo, same framing |",
  "|---|---|---:|---:|---:|",
  `| (a) stock vscode-jsonrpc, answers null | Content-Length | ${fmt(stock)} | | |`,
  `| (b) raw Node echo | NDJSON | ${fmt(echoNd)} | | |`,
  `| (b) raw Node echo | Content-Length | ${fmt(echoCl)} | | |`,
  `| harn-registry | NDJSON | ${fmt(oursNd)} | ${(oursNd / stock).toFixed(2)}× | ${(oursNd / echoNd).toFixed(2)}× |`,
  `| harn-registry | Content-Length | ${fmt(oursCl)} | ${(oursCl / stock).toFixed(2)}× ` +
    `| ${(oursCl / echoCl).toFixed(2)}× |`,
  "",
  `Targets: ≥ 1.0× (a), ≥ 0.5× (b). Metrics left on cost ${metricsCost.toFixed(1)}% of throughput ` +
    `(NDJSON with --no-metrics: ${fmt(oursNoMetrics)} pairs/s).`,
  "",
);

/**
 * A Harn host's envelope against bare calls: the same bin, one process per
 * framing, bare and builtin_call-wrapped pairs measured alternately on it
 * (the order switching every round), median of ENVELOPE_RUNS each after a
 * warm-up of both.
 */
async function envelopeCost(framing: WireFraming): Promise<{ bare: number; wrapped: number }> {
  const wire = spawnWire([BIN]);
  try {
    const bare: number[] = [];
    const wrapped: number[] = [];
    for (let round = -1; round < ENVELOPE_RUNS; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const wrap of order) {
        const rate = await pipelinedPairs(wire, framing, PAIRS, 256, wrap ? "builtin_call" : undefined);
        if (round >= 0) (wrap ? wrapped : bare).push(rate);
      }
    }
    return { bare: percentile(bare, 0.5), wrapped: percentile(wrapped, 0.5) };
  } finally {
    wire.close();
  }
}

const envelopeNd = await envelopeCost("ndjson");
const envelopeCl = await envelopeCost("content-length");
const cost = ({ bare, wrapped }: { bare: number; wrapped: number }) =>
  `${(((bare - wrapped) / bare) * 100).toFixed(1)}%`;
lines.push(
  "Harn's envelope: the same pairs, each request sent as a Harn VM's host bridge sends it " +
    '(`builtin_call {name: "hostlib_code_index_lock_try", args: [params]}`), ' +
    "against bare ones on the same process, alternating (the order switching every round), " +
    `median of ${ENVELOPE_RUNS} runs each after a warm-up.`,
  "",
  "| framing | bare pairs/s | builtin_call pairs/s | throughput cost |",
  "|---|---:|---:|---:|",
  `| NDJSON | ${fmt(envelopeNd.bare)} | ${fmt(envelopeNd.wrapped)} | ${cost(envelopeNd)} |`,
  `| Content-Length | ${fmt(envelopeCl.bare)} | ${fmt(envelopeCl.wrapped)} | ${cost(envelopeCl)} |`,
  "",
  "Target: < 10% throughput cost.",
  "",
);

const [stockLatency, oursLatencyCl, oursLatencyNd] = (await latencies([
  { args: [STOCK], framing: "content-length" },
  { args: [BIN], framing: "content-length" },
  { args: [BIN], framing: "ndjson" },
])) as [{ p50: number; p99: number }, { p50: number; p99: number }, { p50: number; p99: number }];
const us = (n: number) => `${n.toFixed(0)} µs`;
lines.push(
  "Latency: sequential round trips (one request in flight, lock_try and lock_release alternating), " +
    `${LATENCY_TRIPS.toLocaleString("en")} per server after 500 to warm up, ` +
    `in ${LATENCY_ROUNDS} rounds of ${LATENCY_TRIPS / LATENCY_ROUNDS} whose order rotates, ` +
    "so every server sees the same machine state and none always goes first.",
  "",
  "| server | framing | p50 | p99 | p50 vs (a) |",
  "|---|---|---:|---:|---:|",
  `| (a) stock vscode-jsonrpc | Content-Length | ${us(stockLatency.p50)} | ${us(stockLatency.p99)} | |`,
  `| harn-registry | Content-Length | ${us(oursLatencyCl.p50)} | ${us(oursLatencyCl.p99)} ` +
    `| ${(oursLatencyCl.p50 / stockLatency.p50).toFixed(2)}× |`,
  `| harn-registry | NDJSON | ${us(oursLatencyNd.p50)} | ${us(oursLatencyNd.p99)} ` +
    `| ${(oursLatencyNd.p50 / stockLatency.p50).toFixed(2)}× |`,
  "",
  "Target: p50 within 1.2× of (a).",
  "",
);

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** Load 100,000 agents with 4 locks each through pipelined lock_acquire requests; milliseconds. */
async function load(wire: Wire, agents: number): Promise<number> {
  const start = process.hrtime.bigint();
  let replies = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      const batch: string[] = [];
      while (sent < agents && sent - replies < 512) {
        const agent = ++sent;
        const paths = [0, 1, 2, 3].map((k) => `src/d${agent % 97}/m${agent % 13}/a${agent}/f${k}.rs`);
        batch.push(
          `{"jsonrpc":"2.0","id":${agent},"method":"lock_acquire",` +
            `"params":{"agent_id":${agent},"paths":${JSON.stringify(paths)}}}\n`,
        );
      }
      if (batch.length > 0) wire.input.write(batch.join(""));
    };
    wire.output.on("data", (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) replies++;
      if (replies >= agents) resolve();
      else pump();
    });
    pump();
  });
  wire.output.removeAllListeners("data");
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const SCALE_ARGS = [BIN, "--max-message-bytes=1073741824", "--lock-ttl-ms=3600000", "--agent-timeout-ms=3600000"];
const full = spawnWire(SCALE_ARGS);
const loadMs = await load(full, 100_000);
await new Promise((resolve) => setTimeout(resolve, 1000));
const atRest = rssMiB(full.child.pid as number);
const empty = spawnWire(SCALE_ARGS);
const emptyRates: number[] = [];
const loadedRates: number[] = [];
for (let round = -1; round < RUNS; round++) {
  const e = await pipelinedPairs(empty, "ndjson", PAIRS);
  const l = await pipelinedPairs(full, "ndjson", PAIRS);
  if (round >= 0) {
    emptyRates.push(e);
    loadedRates.push(l);
  }
}
empty.close();
const emptyRate = percentile(emptyRates, 0.5);
const loaded = percentile(loadedRates, 0.5);
const steady = rssMiB(full.child.pid as number);
const snapshotChunks: Buffer[] = [];
const snapshotStart = process.hrtime.bigint();
await new Promise<void>((resolve) => {
  full.output.on("data", (chunk: Buffer) => {
    snapshotChunks.push(chunk);
    if (chunk[chunk.length - 1] === 10) resolve();
  });
  full.input.write('{"jsonrpc":"2.0","id":"snapshot","method":"snapshot"}\n');
});
const snapshotMs = Number(process.hrtime.bigint() - snapshotStart) / 1e6;
const snapshotText = Buffer.concat(snapshotChunks).toString();
full.close();
const snapshot = (JSON.parse(snapshotText) as { result: unknown }).result;
const snapshotJson = JSON.stringify(snapshot);
const restoreRequest = `{"jsonrpc":"2.0","id":"restore","method":"restore","params":{"snapshot":${snapshotJson}}}`;
const fresh = spawnWire(SCALE_ARGS);
const restoreMs = await timedCall(fresh, "ndjson", restoreRequest);
const afterRestore = rssMiB(fresh.child.pid as number);
fresh.close();
const snapshotMiB = snapshotText.length / 1024 / 1024;
lines.push(
  "Scale: the same bin with 100,000 agents holding 400,000 live locks, " +
    "loaded by 100,000 pipelined lock_acquire requests of 4 paths, beside an empty one, in alternating rounds.",
  "",
  "| registry | pipelined pairs/s | empty ÷ this (target ≤ 1.5) |",
  "|---|---:|---:|",
  `| empty | ${fmt(emptyRate)} | |`,
  `| 100,000 agents, 400,000 locks | ${fmt(loaded)} | ${(emptyRate / loaded).toFixed(2)} |`,
  "",
  `Loading took ${(loadMs / 1000).toFixed(1)} s. RSS with the registry loaded (target ≤ 256 MiB): ` +
    `${atRest.rss.toFixed(0)} MiB a second after loading; ` +
    `${steady.rss.toFixed(0)} MiB after the ${RUNS + 1} throughput runs (peak ${steady.peak.toFixed(0)} MiB).`,
  `Over RPC at that size: snapshot ${snapshotMs.toFixed(0)} ms ` +
    `(request to the last byte of a ${snapshotMiB.toFixed(0)} MiB reply); ` +
    `restore of it into a fresh process ${restoreMs.toFixed(0)} ms, ` +
    `after which that process holds ${afterRestore.rss.toFixed(0)} MiB RSS ` +
    `(peak ${afterRestore.peak.toFixed(0)} MiB: the request text and its parse are transient).`,
);
console.log(lines.join("\n"));
