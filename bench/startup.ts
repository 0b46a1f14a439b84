// npm run bench:startup — cold start, spawn → first answer, of the built bin
// beside (b) the raw Node echo, the floor, and (a) a do-nothing server on
// stock vscode-jsonrpc. Runs alternate, their order rotating, so all see the
// same machine state. Every child runs without the variables that slow a
// Node start (cleanEnv); when this process has any of them, the three are
// measured with the environment as it is too, in the same rounds. Leads
// with issue 20's target; prints Markdown tables.
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encodeFrame } from "../src/transport/framing.js";
import { machineLine, targetsTable } from "./measure.js";
import { STARTUP_VARIABLES, cleanEnv, inRounds, percentile, spawnWire } from "./pipeline.js";

const BIN = fileURLToPath(new URL("../../bin/harn-registry", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../harn-registry.cjs", import.meta.url));
const CACHE = fileURLToPath(new URL("../harn-registry.cache", import.meta.url));
const STOCK = fileURLToPath(new URL("./baselines/stock-server.js", import.meta.url));
const ECHO = fileURLToPath(new URL("./baselines/raw-echo.js", import.meta.url));
const REQUEST = encodeFrame("content-length", '{"jsonrpc":"2.0","id":1,"method":"current_seq"}');
const RUNS = 31;
const TARGET_OVER_ECHO_MS = 25;

/** Milliseconds from spawning `node args…` to the first byte of its answer to REQUEST. */
function firstAnswerMs(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const wire = spawnWire(args, { env });
    wire.output.once("data", () => {
      resolve(Number(process.hrtime.bigint() - start) / 1e6);
      wire.close();
    });
    wire.child.once("error", reject);
    wire.input.write(REQUEST);
  });
}

const PROCESSES = [
  { name: "(b) raw Node echo (Content-Length)", args: [ECHO, "content-length"] },
  { name: "(a) stock vscode-jsonrpc server, answers null", args: [STOCK] },
  { name: "harn-registry bin", args: [BIN] },
];
const present = STARTUP_VARIABLES.filter((name) => process.env[name] !== undefined);
const ENVIRONMENTS = [
  { name: "clean", env: cleanEnv() },
  ...(present.length > 0 ? [{ name: `as is (${present.join(", ")} set)`, env: process.env }] : []),
];
const cases = ENVIRONMENTS.flatMap((environment) => PROCESSES.map((proc) => ({ environment, proc })));
const samples = await inRounds(cases.length, RUNS, 1, (index) => {
  const { environment, proc } = cases[index] as (typeof cases)[number];
  return firstAnswerMs(proc.args, environment.env);
});
const median = (index: number) => percentile(samples[index] as number[], 0.5);
const p90 = (index: number) => percentile(samples[index] as number[], 0.9);
const ms = (n: number) => `${n.toFixed(1)} ms`;
const [ECHO_AT, STOCK_AT, OURS_AT] = [0, 1, 2];
/** Index in `cases` of PROCESSES[proc] in ENVIRONMENTS[env]. */
const at = (env: number, proc: number) => env * PROCESSES.length + proc;
const overEcho = (env: number) => median(at(env, OURS_AT)) - median(at(env, ECHO_AT));

console.log(
  [
    `Machine: ${machineLine()}`,
    "",
    ...targetsTable("Issue 20's target, this run:", [
      {
        target: `cold start ≤ ${TARGET_OVER_ECHO_MS} ms over the raw echo's (clean environment, medians)`,
        figure: `+${ms(overEcho(0))} (${ms(median(at(0, OURS_AT)))} vs ${ms(median(at(0, ECHO_AT)))})`,
        met: overEcho(0) <= TARGET_OVER_ECHO_MS,
      },
    ]),
    `| process | environment | spawn → first answer, median of ${RUNS} | p90 | over (b) | vs (a) |`,
    "|---|---|---:|---:|---:|---:|",
    ...cases.map(({ environment, proc }, index) => {
      const env = Math.floor(index / PROCESSES.length);
      const relative = index % PROCESSES.length === OURS_AT;
      return (
        `| ${proc.name} | ${environment.name} | ${ms(median(index))} | ${ms(p90(index))} ` +
        `| ${relative ? `+${ms(overEcho(env))}` : ""} ` +
        `| ${relative ? `${(median(index) / median(at(env, STOCK_AT))).toFixed(2)}×` : ""} |`
      );
    }),
    "",
    `A clean environment is this one without ${STARTUP_VARIABLES.join(" and ")}` +
      (present.length > 0 ? "." : "; this process had neither, so no second environment was measured.") +
      ` Targets: ≤ ${TARGET_OVER_ECHO_MS} ms over (b) (issue 20), ≤ 1.3× (a). ` +
      `The bin reads ${(statSync(BUNDLE).size / 1024).toFixed(0)} KiB of bundled JS (dist/harn-registry.cjs) and ` +
      `${(statSync(CACHE).size / 1024).toFixed(0)} KiB of V8 code cache at start; zod, node:crypto and ` +
      "PostgreSQL's client load only when a request or a flag needs them.",
  ].join("\n"),
);
