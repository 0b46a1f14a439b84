// npm run bench:postgres — PostgreSQL state (issue 15), measured in one run
// on a throwaway server on this machine (fsync on, on disk): a write
// (lock_try + lock_release) and a read (lock_holder) through one sidecar
// against bare round trips of the same server (two autocommit INSERTs,
// SELECT 1); throughput of 1, 2 and 4 sidecars hammering the same paths;
// start-up at 100,000 log entries with and without a snapshot row.
import pg from "pg";
import { startPostgres } from "../test/support/postgres-server.js";
import { machineLine, targetsTable } from "./measure.js";
import { type ChildWire, percentile, pipelinedPairs, spawnWire, timedCall } from "./pipeline.js";

const BIN = new URL("../../bin/harn-registry", import.meta.url).pathname;
const TRIPS = 2_000;
const BLOCK = 250;
const THROUGHPUT_PAIRS = 4_000;
const FILL_PAIRS = 50_000;

const server = await startPostgres();
const lines: string[] = [`Machine: ${machineLine()}; PostgreSQL ${server.majorVersion} (${server.kind} binaries)`, ""];
let databases = 0;
const database = async () => {
  const name = `bench_${++databases}`;
  await server.query(`create database ${name}`);
  return server.urlFor(name);
};

/** A sidecar on `url`, answering once it has opened its state. */
async function sidecar(url: string, args: string[] = []): Promise<ChildWire> {
  const wire = spawnWire([BIN, `--state=${url}`, ...args]);
  await timedCall(wire, "ndjson", '{"jsonrpc":"2.0","id":0,"method":"current_seq"}');
  return wire;
}

const call = (method: string, params: unknown) => JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });

/** p50 of sequential round trips, in µs, of several measures taken in alternating blocks. */
async function alternating(measures: (() => Promise<number>)[]): Promise<number[]> {
  const samples: number[][] = measures.map(() => []);
  for (let done = 0; done < TRIPS; done += BLOCK)
    for (const [k, measure] of measures.entries())
      for (let i = 0; i < BLOCK; i++) (samples[k] as number[]).push(await measure());
  return samples.map((list) => percentile(list, 0.5));
}

const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e3;

// Latency: one request in flight.
const bareUrl = await database();
const bare = new pg.Client({ connectionString: bareUrl });
await bare.connect();
await bare.query("create table bench_t (id bigserial primary key, v text)");
const ours = await sidecar(await database());
await timedCall(ours, "ndjson", call("agent_register", { name: "bench", agent_id: 1 }));
const timed = async (body: () => Promise<unknown>) => {
  const start = process.hrtime.bigint();
  await body();
  return since(start);
};
const [select1, insert, pair, holder] = await alternating([
  () => timed(() => bare.query("select 1")),
  () => timed(() => bare.query("insert into bench_t (v) values ($1)", ["x"])),
  () =>
    timed(async () => {
      await timedCall(ours, "ndjson", call("lock_try", { agent_id: 1, path: "src/a.rs" }));
      await timedCall(ours, "ndjson", call("lock_release", { agent_id: 1, path: "src/a.rs" }));
    }),
  () => timed(() => timedCall(ours, "ndjson", call("lock_holder", { path: "src/a.rs" }))),
]);
ours.close();
await bare.end();
const us = (n: number) => `${n.toFixed(0)} µs`;
const writeRatio = (pair as number) / (2 * (insert as number));
const readRatio = (holder as number) / (select1 as number);

// Throughput: 1, 2 and 4 sidecars on one database, every one pipelining pairs on the same 64 paths and 8 agents.
async function throughput(count: number): Promise<{ rate: number; appends: number; round_trips: number }> {
  const url = await database();
  const wires = await Promise.all(Array.from({ length: count }, () => sidecar(url)));
  await Promise.all(wires.map((wire) => pipelinedPairs(wire, "ndjson", 200, 64)));
  const start = process.hrtime.bigint();
  await Promise.all(wires.map((wire) => pipelinedPairs(wire, "ndjson", THROUGHPUT_PAIRS, 64)));
  const rate = (count * THROUGHPUT_PAIRS) / (since(start) / 1e6);
  const metrics = await Promise.all(wires.map((wire) => metricsOf(wire)));
  for (const wire of wires) wire.close();
  const sum = (key: "appends" | "round_trips") => metrics.reduce((total, m) => total + (m?.[key] ?? 0), 0);
  return { rate, appends: sum("appends"), round_trips: sum("round_trips") };
}

async function metricsOf(wire: ChildWire): Promise<{ appends: number; round_trips: number } | undefined> {
  const chunks: Buffer[] = [];
  const text = await new Promise<string>((resolve) => {
    wire.output.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (chunk[chunk.length - 1] === 10) resolve(Buffer.concat(chunks).toString());
    });
    wire.input.write(`${call("metrics", {})}\n`);
  });
  wire.output.removeAllListeners("data");
  type Counts = { appends: number; round_trips: number };
  return (JSON.parse(text) as { result?: { postgres?: Counts } }).result?.postgres;
}

/** Calls per append: every sidecar's pairs (warm-up included), two calls each. */
const perAppend = (count: number, appends: number) =>
  appends > 0 ? ((count * 2 * (THROUGHPUT_PAIRS + 200)) / appends).toFixed(1) : "-";
const scaling = [];
for (const count of [1, 2, 4]) scaling.push({ count, ...(await throughput(count)) });
const one = scaling[0]?.rate as number;
const four = scaling[2]?.rate as number;

// Start-up at 100,000 entries, with the snapshot rows a sidecar writes every 10,000 entries and without any.
async function startupAt(args: string[]): Promise<{ fillS: number; startMs: number[] }> {
  const url = await database();
  const filler = await sidecar(url, args);
  const start = process.hrtime.bigint();
  await pipelinedPairs(filler, "ndjson", FILL_PAIRS, 512);
  const fillS = since(start) / 1e6;
  filler.close();
  const startMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const begin = process.hrtime.bigint();
    const fresh = await sidecar(url, args);
    startMs.push(since(begin) / 1e3);
    fresh.close();
  }
  return { fillS, startMs };
}
const withSnapshots = await startupAt([]);
const withoutSnapshots = await startupAt(["--compact-entries=1000000000"]);
await server.stop();

const median = (xs: number[]) => percentile(xs, 0.5);
lines.push(
  ...targetsTable("Targets (issue 15)", [
    {
      target: "a write (lock_try + lock_release) p50 ≤ 1.5× two bare autocommit INSERTs",
      figure: `${writeRatio.toFixed(2)}× (${us(pair as number)} vs 2 × ${us(insert as number)})`,
      met: writeRatio <= 1.5,
    },
    {
      target: "a read (lock_holder) p50 ≤ 1.5× a bare SELECT 1",
      figure: `${readRatio.toFixed(2)}× (${us(holder as number)} vs ${us(select1 as number)})`,
      met: readRatio <= 1.5,
    },
    {
      target: "4 sidecars ≥ 0.8× the throughput of one",
      figure: `${(four / one).toFixed(2)}×`,
      met: four / one >= 0.8,
    },
  ]),
  "",
  `Latency: one request in flight, ${TRIPS} of each, the four measured in alternating blocks of ${BLOCK}; ` +
    "the sidecar's figures include its stdio round trip.",
  "",
  "| what | p50 |",
  "|---|---:|",
  `| bare \`SELECT 1\` | ${us(select1 as number)} |`,
  `| bare autocommit \`INSERT\` | ${us(insert as number)} |`,
  `| lock_try + lock_release through a sidecar | ${us(pair as number)} |`,
  `| lock_holder through a sidecar | ${us(holder as number)} |`,
  "",
  `Throughput: every sidecar pipelines ${THROUGHPUT_PAIRS} lock_try + lock_release pairs (64 in flight) ` +
    "on the same 64 paths and 8 agents. Retries: none by design (the database orders the calls); " +
    "a round is one round trip, an append a round with changes.",
  "",
  "| sidecars | pairs/s in all | vs one | round trips | appends | calls per append |",
  "|---:|---:|---:|---:|---:|---:|",
  ...scaling.map(
    ({ count, rate, round_trips, appends }) =>
      `| ${count} | ${Math.round(rate).toLocaleString("en")} | ${(rate / one).toFixed(2)}× ` +
      `| ${round_trips} | ${appends} | ${perAppend(count, appends)} |`,
  ),
  "",
  `Start-up at ${(2 * FILL_PAIRS).toLocaleString("en")} log entries (spawn → first answer, median of 5):`,
  "",
  "| log | filled in | start-up |",
  "|---|---:|---:|",
  `| a snapshot row every 10,000 entries | ${withSnapshots.fillS.toFixed(1)} s | ` +
    `${median(withSnapshots.startMs).toFixed(0)} ms |`,
  `| no snapshot row (all entries replayed) | ${withoutSnapshots.fillS.toFixed(1)} s | ` +
    `${median(withoutSnapshots.startMs).toFixed(0)} ms |`,
);
console.log(lines.join("\n"));
