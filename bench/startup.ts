// npm run bench:startup — cold start, spawn → first answer, of the built bin
// beside (a) a do-nothing server on stock vscode-jsonrpc and a bare Node
// process that answers the same request. Runs alternate so all see the
// same machine state. Prints a Markdown table.
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeFrame } from "../src/transport/framing.js";
import { machineLine } from "./measure.js";

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../harn-registry.js", import.meta.url));
const STOCK = fileURLToPath(new URL("./baselines/stock-server.js", import.meta.url));
const BODY = '{"jsonrpc":"2.0","id":1,"method":"current_seq"}';
const REQUEST = encodeFrame("content-length", BODY);
const BARE = `process.stdin.once("data", () => process.stdout.write('{"jsonrpc":"2.0","id":1,"result":0}\\n'));`;
const RUNS = 31;

function firstAnswerMs(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "ignore"] });
    child.stdout.once("data", () => {
      resolve(Number(process.hrtime.bigint() - start) / 1e6);
      child.kill("SIGKILL");
    });
    child.once("error", reject);
    child.stdin.write(REQUEST);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const ours: number[] = [];
const bare: number[] = [];
const stock: number[] = [];
for (let i = 0; i < RUNS; i++) {
  bare.push(await firstAnswerMs(["-e", BARE]));
  stock.push(await firstAnswerMs([STOCK]));
  ours.push(await firstAnswerMs([BIN]));
}
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(RUNS * 0.9)]?.toFixed(1);
console.log(
  [
    `Machine: ${machineLine()}`,
    "",
    `| process | spawn → first answer, median of ${RUNS} | p90 |`,
    "|---|---:|---:|",
    `| bare Node answering one line | ${median(bare).toFixed(1)} ms | ${p90(bare)} ms |`,
    `| (a) stock vscode-jsonrpc server, answers null (baseline) | ${median(stock).toFixed(1)} ms | ${p90(stock)} ms |`,
    `| harn-registry bin | ${median(ours).toFixed(1)} ms | ${p90(ours)} ms |`,
    "",
    `harn-registry vs (a): ${(median(ours) / median(stock)).toFixed(2)}× (target ≤ 1.3×); ` +
      `vs bare Node: ${(median(ours) / median(bare)).toFixed(2)}×. ` +
      `The bin loads ${(loadedAtStart(BUNDLE) / 1024).toFixed(0)} KiB of bundled JS at start ` +
      "(dist/harn-registry.js and the chunks it imports statically; " +
      "the --state, --listen and connect code loads on demand).",
  ].join("\n"),
);

/** Bytes of a bundle file and every file it imports statically, each counted once. */
function loadedAtStart(file: string, seen = new Set<string>()): number {
  if (seen.has(file)) return 0;
  seen.add(file);
  const text = readFileSync(file, "utf8");
  let bytes = statSync(file).size;
  for (const match of text.matchAll(/(?:from|import)\s*"(\.{1,2}\/[^"]+\.js)"/g))
    bytes += loadedAtStart(join(dirname(file), match[1] as string), seen);
  return bytes;
}
