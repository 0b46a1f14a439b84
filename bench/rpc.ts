// npm run bench:rpc — the real bin in another process against (a) a
// do-nothing server on stock vscode-jsonrpc and (b) a raw Node echo, the
// floor, measured in the same run: pipelined throughput and server CPU per
// request in both framings, heap allocation per request, sequential
// latency, metrics' cost, the cost of Harn's builtin_call envelope against
// bare calls, and throughput and RSS at 100,000 agents / 400,000 live locks
// with snapshot and restore over RPC. Every child runs without the
// variables that slow a Node start (cleanEnv). Leads with issue 20's targets.
import { fileURLToPath } from "node:url";
import { heapBytesDuring, spawnProbed } from "./alloc.js";
import { type TargetRow, machineLine, targetsTable } from "./measure.js";
import {
  STARTUP_VARIABLES,
  type WireFraming,
  cpuMs,
  inRounds,
  percentile,
  pipelinedPairs,
  roundTrips,
  spawnWire,
} from "./pipeline.js";
import { scaleSection } from "./rpc-scale.js";

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const STOCK = fileURLToPath(new URL("./baselines/stock-server.js", import.meta.url));
const ECHO = fileURLToPath(new URL("./baselines/raw-echo.js", import.meta.url));
const PAIRS = 20_000;
/** Pairs per throughput and CPU run: enough that /proc's 10 ms steps stay ~1% of the raw echo's CPU over all runs. */
const CPU_PAIRS = 50_000;
const RUNS = 9;
const ALLOC_RUNS = 3;
const PAD_BYTES = 1024;
const LATENCY_ROUNDS = 60;
const LATENCY_WARMUP_ROUNDS = 5;
const TRIPS_PER_ROUND = 100;
const ENVELOPE_RUNS = 11;
const SCALE_RUNS = 5;

/** A server to measure: how to start it, and the framing to talk to it in. */
interface Server {
  args: string[];
  framing: WireFraming;
}

const STOCK_SERVER: Server = { args: [STOCK], framing: "content-length" };
const echo = (framing: WireFraming): Server => ({ args: [ECHO, framing], framing });
const ours = (framing: WireFraming, ...flags: string[]): Server => ({ args: [BIN, ...flags], framing });

/** One server's pipelined runs: median pairs per second, its CPU per request over all the runs and in each (µs). */
interface Pipelined {
  rate: number;
  cpuUs: number;
  runCpuUs: number[];
}

/**
 * Pipelined runs of CPU_PAIRS pairs on several servers in alternating rounds, RUNS each after a warm-up; each
 * server's CPU time read from /proc before and after each run. Only the runs count: idle between them, a server may
 * still do work of its own (timers, V8's collections when idle).
 */
async function pipelined(servers: Server[]): Promise<Pipelined[]> {
  const wires = servers.map(({ args }) => spawnWire(args));
  try {
    const runs = await inRounds(servers.length, RUNS, 1, async (index) => {
      const wire = wires[index] as (typeof wires)[number];
      const pid = wire.child.pid as number;
      const before = cpuMs(pid);
      const rate = await pipelinedPairs(wire, (servers[index] as Server).framing, CPU_PAIRS);
      return { rate, cpuMs: cpuMs(pid) - before };
    });
    return runs.map((list) => ({
      rate: percentile(
        list.map(({ rate }) => rate),
        0.5,
      ),
      cpuUs: (list.reduce((sum, run) => sum + run.cpuMs, 0) * 1000) / (list.length * CPU_PAIRS * 2),
      runCpuUs: list.map((run) => (run.cpuMs * 1000) / (CPU_PAIRS * 2)),
    }));
  } finally {
    for (const wire of wires) wire.close();
  }
}

/**
 * Heap bytes each server allocates per request in pipelined runs, median of ALLOC_RUNS after a warm-up, in alternating
 * rounds, each in a child of its own with the allocation probe (with `pad`, also its 1,024-byte check).
 */
async function allocations(servers: (Server & { pad?: boolean })[]): Promise<number[]> {
  const wires = servers.map(({ args, pad }) => spawnProbed(args, pad));
  try {
    const runs = await inRounds(servers.length, ALLOC_RUNS, 1, async (index) => {
      const wire = wires[index] as (typeof wires)[number];
      const framing = (servers[index] as Server).framing;
      return (await heapBytesDuring(wire, () => pipelinedPairs(wire, framing, PAIRS))) / (PAIRS * 2);
    });
    return runs.map((list) => percentile(list, 0.5));
  } finally {
    for (const wire of wires) wire.close();
  }
}

/** Median and 99th percentile of one server's round trips, µs. */
interface Latency {
  p50: number;
  p99: number;
}

/**
 * Sequential round trips, TRIPS_PER_ROUND per server in each of LATENCY_ROUNDS rounds after LATENCY_WARMUP_ROUNDS, the
 * servers in an order that rotates every round.
 */
async function latencies(servers: Server[]): Promise<Latency[]> {
  const wires = servers.map(({ args }) => spawnWire(args));
  try {
    const runs = await inRounds(servers.length, LATENCY_ROUNDS, LATENCY_WARMUP_ROUNDS, (index) =>
      roundTrips(wires[index] as (typeof wires)[number], (servers[index] as Server).framing, TRIPS_PER_ROUND),
    );
    return runs.map((list) => ({ p50: percentile(list.flat(), 0.5), p99: percentile(list.flat(), 0.99) }));
  } finally {
    for (const wire of wires) wire.close();
  }
}

/**
 * A Harn host's envelope against bare calls: the same bin, one process per framing, bare and builtin_call-wrapped
 * pairs measured alternately on it (the order switching every round), median of ENVELOPE_RUNS each after a warm-up.
 */
async function envelopeCost(framing: WireFraming): Promise<{ bare: number; wrapped: number }> {
  const wire = spawnWire([BIN]);
  try {
    const [bare, wrapped] = await inRounds(2, ENVELOPE_RUNS, 1, (index) =>
      pipelinedPairs(wire, framing, PAIRS, 256, index === 1 ? "builtin_call" : undefined),
    );
    return { bare: percentile(bare as number[], 0.5), wrapped: percentile(wrapped as number[], 0.5) };
  } finally {
    wire.close();
  }
}

const fmt = (rate: number) => Math.round(rate).toLocaleString("en");
const times = (ratio: number) => `${ratio.toFixed(2)}×`;
const us = (n: number) => `${n.toFixed(2)} µs`;
const bytes = (n: number) => `${Math.round(n).toLocaleString("en")} B`;
const percent = (part: number, whole: number) => (part / whole) * 100;

const [stock, echoNd, echoCl, oursNd, oursCl, noMetrics] = (await pipelined([
  STOCK_SERVER,
  echo("ndjson"),
  echo("content-length"),
  ours("ndjson"),
  ours("content-length"),
  ours("ndjson", "--no-metrics"),
])) as [Pipelined, Pipelined, Pipelined, Pipelined, Pipelined, Pipelined];
const metricsCpu = percent(oursNd.cpuUs - noMetrics.cpuUs, oursNd.cpuUs);
const metricsRounds = oursNd.runCpuUs.map((on, round) => percent(on - (noMetrics.runCpuUs[round] as number), on));
const oursRow = (name: string, framing: string, run: Pipelined, floor: Pipelined) =>
  `| ${name} | ${framing} | ${fmt(run.rate)} | ${us(run.cpuUs)} | ${times(run.rate / stock.rate)} ` +
  `| ${times(run.rate / floor.rate)} | ${times(run.cpuUs / floor.cpuUs)} |`;
const throughputLines = [
  "Throughput and server CPU: pipelined lock_try + lock_release pairs " +
    `(${CPU_PAIRS.toLocaleString("en")} pairs, 256 requests in flight), ${RUNS} runs per server after a warm-up, ` +
    "the servers measured in alternating rounds; each server is its own process, the client another. " +
    "pairs/s is the median run; server CPU per request is the user + system time of the server process " +
    `(all its threads, from /proc/PID/stat before and after each run, in 10 ms steps) summed over the ${RUNS} runs, ` +
    "divided by their requests.",
  "",
  "| server | framing | pairs/s | server CPU per request | pairs/s vs (a) | pairs/s vs (b), same framing " +
    "| CPU per request vs (b), same framing |",
  "|---|---|---:|---:|---:|---:|---:|",
  `| (a) stock vscode-jsonrpc, answers null | Content-Length | ${fmt(stock.rate)} | ${us(stock.cpuUs)} | | | |`,
  `| (b) raw Node echo | NDJSON | ${fmt(echoNd.rate)} | ${us(echoNd.cpuUs)} | | | |`,
  `| (b) raw Node echo | Content-Length | ${fmt(echoCl.rate)} | ${us(echoCl.cpuUs)} | | | |`,
  oursRow("harn-registry", "NDJSON", oursNd, echoNd),
  oursRow("harn-registry", "Content-Length", oursCl, echoCl),
  oursRow("harn-registry --no-metrics", "NDJSON", noMetrics, echoNd),
  "",
  "Targets: pairs/s ≥ 1.0× (a) and ≥ 0.5× (b); server CPU per request ≤ 1.4× (b). " +
    `Metrics left on cost ${metricsCpu.toFixed(1)}% of the server's CPU per request ` +
    `(${Math.min(...metricsRounds).toFixed(1)}% to ${Math.max(...metricsRounds).toFixed(1)}% round by round) ` +
    `and ${percent(noMetrics.rate - oursNd.rate, noMetrics.rate).toFixed(1)}% of throughput ` +
    "(NDJSON, against --no-metrics).",
  "",
];

const [stockAlloc, echoNdAlloc, echoClAlloc, oursNdAlloc, oursClAlloc, paddedAlloc] = (await allocations([
  STOCK_SERVER,
  echo("ndjson"),
  echo("content-length"),
  ours("ndjson"),
  ours("content-length"),
  { ...echo("ndjson"), pad: true },
])) as [number, number, number, number, number, number];
const padMeasured = paddedAlloc - echoNdAlloc;
const allocRow = (name: string, framing: string, perRequest: number, floor?: number) =>
  `| ${name} | ${framing} | ${bytes(perRequest)} | ${floor === undefined ? "" : times(perRequest / floor)} |`;
const allocationLines = [
  "Allocation: bytes the server's V8 heap allocates per request in pipelined runs like those above " +
    `(${PAIRS.toLocaleString("en")} pairs each), ` +
    `median of ${ALLOC_RUNS} runs after a warm-up, the servers in alternating rounds, each in a process of its own ` +
    "with bench/preload/alloc-probe.mjs loaded (it forces a full collection at the start and end of each run " +
    "and sums the heap's growth between collections from v8.GCProfiler; Buffer contents, outside the heap, " +
    "are not counted).",
  "",
  "| server | framing | heap bytes per request | vs (b), same framing |",
  "|---|---|---:|---:|",
  allocRow("(a) stock vscode-jsonrpc, answers null", "Content-Length", stockAlloc),
  allocRow("(b) raw Node echo", "NDJSON", echoNdAlloc),
  allocRow("(b) raw Node echo", "Content-Length", echoClAlloc),
  allocRow("harn-registry", "NDJSON", oursNdAlloc, echoNdAlloc),
  allocRow("harn-registry", "Content-Length", oursClAlloc, echoClAlloc),
  "",
  `Target: ≤ 0.5 KB (512 B) per request. The probe's check, same run: the NDJSON raw echo with each JSON.parse ` +
    `made to allocate ${bytes(PAD_BYTES)} more measured +${bytes(padMeasured)} per request` +
    (Math.abs(padMeasured - PAD_BYTES) <= PAD_BYTES * 0.05
      ? "."
      : ` — more than 5% off ${bytes(PAD_BYTES)}: the allocation figures above are not to be trusted.`),
  "",
];

const envelopeNd = await envelopeCost("ndjson");
const envelopeCl = await envelopeCost("content-length");
const cost = ({ bare, wrapped }: { bare: number; wrapped: number }) => `${percent(bare - wrapped, bare).toFixed(1)}%`;
const envelopeLines = [
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
];

const [stockLatency, echoLatencyNd, echoLatencyCl, oursLatencyNd, oursLatencyCl] = (await latencies([
  STOCK_SERVER,
  echo("ndjson"),
  echo("content-length"),
  ours("ndjson"),
  ours("content-length"),
])) as [Latency, Latency, Latency, Latency, Latency];
const latencyRow = (name: string, framing: string, { p50, p99 }: Latency, floor?: Latency) =>
  `| ${name} | ${framing} | ${us(p50)} | ${us(p99)} | ${floor === undefined ? "" : times(p50 / floor.p50)} ` +
  `| ${floor === undefined ? "" : times(p50 / stockLatency.p50)} |`;
const latencyLines = [
  "Latency: sequential round trips (one request in flight, lock_try and lock_release alternating), " +
    `${(LATENCY_ROUNDS * TRIPS_PER_ROUND).toLocaleString("en")} per server ` +
    `after ${LATENCY_WARMUP_ROUNDS * TRIPS_PER_ROUND} to warm up, ` +
    `in ${LATENCY_ROUNDS} rounds of ${TRIPS_PER_ROUND} whose order rotates, ` +
    "so every server sees the same machine state and none always goes first.",
  "",
  "| server | framing | p50 | p99 | p50 vs (b), same framing | p50 vs (a) |",
  "|---|---|---:|---:|---:|---:|",
  latencyRow("(a) stock vscode-jsonrpc", "Content-Length", stockLatency),
  latencyRow("(b) raw Node echo", "NDJSON", echoLatencyNd),
  latencyRow("(b) raw Node echo", "Content-Length", echoLatencyCl),
  latencyRow("harn-registry", "NDJSON", oursLatencyNd, echoLatencyNd),
  latencyRow("harn-registry", "Content-Length", oursLatencyCl, echoLatencyCl),
  "",
  "Targets: p50 ≤ 1.3× (b), same framing; p50 within 1.2× of (a).",
  "",
];

const scaleLines = await scaleSection(BIN, PAIRS, SCALE_RUNS);

const cpuTarget = (framing: string, run: Pipelined, floor: Pipelined): TargetRow => ({
  target: `server CPU per pipelined request ≤ 1.4× the raw echo's, ${framing}`,
  figure:
    `${times(run.cpuUs / floor.cpuUs)} (${us(run.cpuUs)} vs ${us(floor.cpuUs)}; ` +
    `efficiency ${(floor.cpuUs / run.cpuUs).toFixed(2)})`,
  met: run.cpuUs <= 1.4 * floor.cpuUs,
});
const allocTarget = (framing: string, perRequest: number, floor: number): TargetRow => ({
  target: `heap allocation per request ≤ 0.5 KB (512 B), ${framing}`,
  figure: `${bytes(perRequest)} (raw echo ${bytes(floor)})`,
  met: perRequest <= 512,
});
const latencyTarget = (framing: string, run: Latency, floor: Latency): TargetRow => ({
  target: `latency p50 ≤ 1.3× the raw echo's, ${framing}`,
  figure: `${times(run.p50 / floor.p50)} (${us(run.p50)} vs ${us(floor.p50)})`,
  met: run.p50 <= 1.3 * floor.p50,
});
const targets = targetsTable("Issue 20's targets, this run (cold start: `npm run bench:startup`):", [
  cpuTarget("NDJSON", oursNd, echoNd),
  cpuTarget("Content-Length", oursCl, echoCl),
  allocTarget("NDJSON", oursNdAlloc, echoNdAlloc),
  allocTarget("Content-Length", oursClAlloc, echoClAlloc),
  latencyTarget("NDJSON", oursLatencyNd, echoLatencyNd),
  latencyTarget("Content-Length", oursLatencyCl, echoLatencyCl),
  {
    target: "metrics on ≤ 3% of server CPU (NDJSON, against --no-metrics)",
    figure: `${metricsCpu.toFixed(1)}% (${us(oursNd.cpuUs)} vs ${us(noMetrics.cpuUs)} per request)`,
    met: metricsCpu <= 3,
  },
]);
console.log(
  [
    `Machine: ${machineLine()}`,
    `Children run with ${STARTUP_VARIABLES.join(" and ")} removed from their environment.`,
    "",
    ...targets,
    ...throughputLines,
    ...allocationLines,
    ...envelopeLines,
    ...latencyLines,
    ...scaleLines,
  ].join("\n"),
);
