// Part of npm run bench:core — snapshot() and restore() at 100,000 agents /
// 400,000 locks, in a process that holds only that registry (as the
// sidecar does), median and range of 7 runs.
import { Registry } from "../src/core/registry.js";
import { lockPath, timeMs } from "./measure.js";

const NOW = 1_000_000;
const RUNS = 7;

const registry = new Registry({
  now: () => NOW,
  config: { default_lock_ttl_ms: 3_600_000, agent_timeout_ms: 3_600_000 },
});
for (let a = 1; a <= 100_000; a++) {
  registry.registerWithId(a, `agent-${a}`);
  for (let k = 0; k < 4; k++) registry.tryLock(a, lockPath(a, k));
}

const snapshotMs: number[] = [];
const restoreMs: number[] = [];
let roundTrip = true;
for (let run = 0; run < RUNS; run++) {
  const snap = timeMs(() => registry.snapshot());
  snapshotMs.push(snap.ms);
  const text = JSON.stringify(snap.value);
  const parsed: unknown = JSON.parse(text);
  const target = new Registry({ now: () => NOW });
  restoreMs.push(timeMs(() => target.restore(parsed)).ms);
  roundTrip &&= JSON.stringify(target.snapshot()) === text;
}

const spread = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = (sorted[sorted.length >> 1] as number).toFixed(0);
  return `${median} ms (range ${(sorted[0] as number).toFixed(0)}–${(sorted.at(-1) as number).toFixed(0)})`;
};
console.log(
  `snapshot() at 100,000 agents / 400,000 locks, median of ${RUNS} in a process holding only that registry: ` +
    `${spread(snapshotMs)}; restore(): ${spread(restoreMs)} (target ≤ 1000 ms each); ` +
    `round trip identical: ${roundTrip}.`,
);
