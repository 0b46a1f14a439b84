// Small timing helpers, and the core benchmarks' lock paths, shared by the benchmarks.
import { cpus } from "node:os";

/** Lock `k` of `agent` in the core benchmarks: depth 5, each agent in its own directory under 97 × 13 shared ones. */
export const lockPath = (agent: number, k: number): string => `src/d${agent % 97}/m${agent % 13}/a${agent}/f${k}.rs`;

/** Median of `rounds` batches of `perBatch` calls, in nanoseconds per call. */
export function medianNsPerCall(perBatch: number, rounds: number, body: (i: number) => void): number {
  const samples: number[] = [];
  let i = 0;
  for (let warm = 0; warm < Math.min(perBatch, 2_000); warm++) body(i++);
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < perBatch; k++) body(i++);
    samples.push(Number(process.hrtime.bigint() - start) / perBatch);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] as number;
}

/** Wall time of one call, in milliseconds. */
export function timeMs<T>(body: () => T): { ms: number; value: T } {
  const start = process.hrtime.bigint();
  const value = body();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Memory in use after a full collection: the JS heap and the array buffers outside it (needs --expose-gc). */
export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** One line naming the machine, for the report. */
export function machineLine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model ?? "unknown cpu";
  return `Node ${process.version}, ${cpu.length} cores (${model}), ${process.platform}/${process.arch}`;
}

export const fmtUs = (ns: number): string => `${(ns / 1000).toFixed(2)} µs`;

/** One target as a report states it: what is aimed at, the figure measured, and whether it is met. */
export interface TargetRow {
  target: string;
  figure: string;
  met: boolean;
}

/** A Markdown table of targets under a title line, then a blank line. */
export function targetsTable(title: string, rows: TargetRow[]): string[] {
  return [
    title,
    "",
    "| target | figure | met? |",
    "|---|---|---|",
    ...rows.map(({ target, figure, met }) => `| ${target} | ${figure} | ${met ? "met" : "**not met**"} |`),
    "",
  ];
}
