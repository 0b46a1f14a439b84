// npm run bench:durable — issue 5's figures, over the real bin in another
// process: pipelined lock_try + lock_release throughput in memory, with
// --state (journal + fdatasync before every reply, group commit), and over
// a unix socket, each beside stdio in memory measured in the same run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { machineLine } from "./measure.js";
import { type Wire, medianRate, pipelinedPairs, socketWire, spawnWire } from "./pipeline.js";

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const PAIRS = 20_000;
const RUNS = 5;
const scratch = mkdtempSync(join(tmpdir(), "harn-bench-"));

async function rateOf(open: () => Promise<Wire>): Promise<number> {
  const wire = await open();
  try {
    return await medianRate(RUNS, () => pipelinedPairs(wire, "ndjson", PAIRS));
  } finally {
    wire.close();
  }
}

async function listening(args: string[]): Promise<{ path: string; stop(): void }> {
  const path = join(scratch, `s${Math.random().toString(36).slice(2)}.sock`);
  const server = spawnWire([BIN, `--listen=unix:${path}`, ...args]);
  for (let tries = 0; tries < 200; tries++) {
    try {
      (await socketWire(path)).close();
      return { path, stop: () => server.close() };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  throw new Error("socket server did not start");
}

const memory = await rateOf(async () => spawnWire([BIN]));
const durable = await rateOf(async () => spawnWire([BIN, `--state=${join(scratch, "stdio-state")}`]));
const unix = await listening([]);
const socket = await rateOf(() => socketWire(unix.path));
unix.stop();
const unixDurable = await listening([`--state=${join(scratch, "socket-state")}`]);
const socketState = await rateOf(() => socketWire(unixDurable.path));
unixDurable.stop();
rmSync(scratch, { recursive: true, force: true });

const row = (name: string, rate: number) =>
  `| ${name} | ${Math.round(rate).toLocaleString("en")} | ${(rate / memory).toFixed(2)}× |`;
console.log(
  [
    `Machine: ${machineLine()}`,
    "",
    `Pipelined lock_try + lock_release pairs (${PAIRS.toLocaleString("en")} pairs, 256 requests in flight, NDJSON), ` +
      `median of ${RUNS} runs after a warm-up; the client is another process.`,
    "",
    "| server | pairs/s | vs stdio in memory |",
    "|---|---:|---:|",
    row("stdio, in memory (baseline)", memory),
    row("stdio, --state (journal, fdatasync before replies)", durable),
    row("unix socket, in memory", socket),
    row("unix socket, --state", socketState),
    "",
    `--state costs ${(memory / durable).toFixed(2)}× (target ≤ 3×); ` +
      `a unix socket runs at ${(socket / memory).toFixed(2)}× stdio.`,
  ].join("\n"),
);
