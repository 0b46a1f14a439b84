// bench:rpc's scale section: the bin with 100,000 agents holding 400,000
// live locks beside an empty one, and snapshot and restore over RPC at that size.
import { readFileSync } from "node:fs";
import { type Wire, percentile, pipelinedPairs, spawnWire, timedCall } from "./pipeline.js";

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

/** Median pipelined pairs/s of an empty and a loaded server, `runs` each after a warm-up, alternating. */
async function emptyAndLoaded(empty: Wire, loaded: Wire, pairs: number, runs: number): Promise<[number, number]> {
  const emptyRates: number[] = [];
  const loadedRates: number[] = [];
  for (let round = -1; round < runs; round++) {
    const e = await pipelinedPairs(empty, "ndjson", pairs);
    const l = await pipelinedPairs(loaded, "ndjson", pairs);
    if (round >= 0) {
      emptyRates.push(e);
      loadedRates.push(l);
    }
  }
  return [percentile(emptyRates, 0.5), percentile(loadedRates, 0.5)];
}

/** Ask for a snapshot: the reply's text, and milliseconds from the request to its last byte. */
async function snapshotOverRpc(wire: Wire): Promise<{ text: string; ms: number }> {
  const chunks: Buffer[] = [];
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    wire.output.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (chunk[chunk.length - 1] === 10) resolve();
    });
    wire.input.write('{"jsonrpc":"2.0","id":"snapshot","method":"snapshot"}\n');
  });
  return { text: Buffer.concat(chunks).toString(), ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/**
 * The scale section's lines: throughput of `pairs` pipelined pairs on the bin `bin` loaded beside an empty one (median
 * of `runs` after a warm-up, alternating), RSS, and snapshot and restore over RPC.
 */
export async function scaleSection(bin: string, pairs: number, runs: number): Promise<string[]> {
  const fmt = (rate: number) => Math.round(rate).toLocaleString("en");
  const args = [bin, "--max-message-bytes=1073741824", "--lock-ttl-ms=3600000", "--agent-timeout-ms=3600000"];
  const full = spawnWire(args);
  const loadMs = await load(full, 100_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const atRest = rssMiB(full.child.pid as number);
  const empty = spawnWire(args);
  const [emptyRate, loaded] = await emptyAndLoaded(empty, full, pairs, runs);
  empty.close();
  const steady = rssMiB(full.child.pid as number);
  const snapshot = await snapshotOverRpc(full);
  full.close();
  const snapshotJson = JSON.stringify((JSON.parse(snapshot.text) as { result: unknown }).result);
  const restoreRequest = `{"jsonrpc":"2.0","id":"restore","method":"restore","params":{"snapshot":${snapshotJson}}}`;
  const fresh = spawnWire(args);
  const restoreMs = await timedCall(fresh, "ndjson", restoreRequest);
  const afterRestore = rssMiB(fresh.child.pid as number);
  fresh.close();
  const snapshotMiB = snapshot.text.length / 1024 / 1024;
  return [
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
      `${steady.rss.toFixed(0)} MiB after the ${runs + 1} throughput runs (peak ${steady.peak.toFixed(0)} MiB).`,
    `Over RPC at that size: snapshot ${snapshot.ms.toFixed(0)} ms ` +
      `(request to the last byte of a ${snapshotMiB.toFixed(0)} MiB reply); ` +
      `restore of it into a fresh process ${restoreMs.toFixed(0)} ms, ` +
      `after which that process holds ${afterRestore.rss.toFixed(0)} MiB RSS ` +
      `(peak ${afterRestore.peak.toFixed(0)} MiB: the request text and its parse are transient).`,
  ];
}
