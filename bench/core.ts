// npm run bench:core — the registry core in-process, beside the seed's
// scanning algorithm measured in the same run. Prints a Markdown table.
import { Registry } from "../src/core/registry.js";
import { fmtUs, lockPath, machineLine, medianNsPerCall, settledHeap } from "./measure.js";
import { SeedRegistry } from "./seed-baseline.js";

const LOCKS_PER_AGENT = 4;
const NOW = 1_000_000;

function ours(agents: number): Registry {
  const reg = new Registry({ now: () => NOW, config: { default_lock_ttl_ms: 3_600_000, agent_timeout_ms: 3_600_000 } });
  for (let a = 1; a <= agents; a++) {
    reg.registerWithId(a, `agent-${a}`);
    for (let k = 0; k < LOCKS_PER_AGENT; k++) reg.tryLock(a, lockPath(a, k));
  }
  return reg;
}

function seed(agents: number): SeedRegistry {
  const reg = new SeedRegistry(3_600_000, 3_600_000);
  for (let a = 1; a <= agents; a++) {
    reg.register(NOW);
    for (let k = 0; k < LOCKS_PER_AGENT; k++) reg.seedLock(a, lockPath(a, k), NOW);
  }
  return reg;
}

/** Deterministic pseudo-random agent picks, so both sides see the same sequence. */
function picker(agents: number): (i: number) => number {
  return (i) => 1 + ((i * 2_654_435_761) % agents);
}

interface Row {
  agents: number;
  mapFloor: number;
  oursHotPair: number;
  oursPair: number;
  oursHolder: number;
  seedPair: number;
  seedHolder: number;
}

const baseHeap = settledHeap();
const agentsOnly = new Registry({ now: () => NOW, config: { agent_timeout_ms: 3_600_000 } });
for (let a = 1; a <= 100_000; a++) agentsOnly.registerWithId(a, `agent-${a}`);
const withAgents = settledHeap();
for (let a = 1; a <= 100_000; a++)
  for (let k = 0; k < LOCKS_PER_AGENT; k++) agentsOnly.tryLock(a, lockPath(a, k), 3_600_000);
const withLocks = settledHeap();
const bytesPerAgent = (withAgents - baseHeap) / 100_000;
const bytesPerLock = (withLocks - withAgents) / 400_000;

/** Results are folded in here so that no measured call can be optimised away. */
let sink = 0;
const rows: Row[] = [];
for (const agents of [10, 1_000, 100_000]) {
  const pick = picker(agents);
  const reg = ours(agents);
  const hot = pick(7);
  const oursHotPair = medianNsPerCall(20_000, 21, () => {
    reg.tryLock(hot, "bench/extra.rs");
    reg.releaseLock(hot, "bench/extra.rs");
  });
  const oursPair = medianNsPerCall(20_000, 21, (i) => {
    const a = pick(i);
    reg.tryLock(a, "bench/extra.rs");
    reg.releaseLock(a, "bench/extra.rs");
  });
  const oursHolder = medianNsPerCall(20_000, 21, (i) => {
    sink ^= reg.lockHolder(lockPath(pick(i), i & 3)) ?? 0;
  });
  const bare = new Map<string, number>();
  for (let a = 1; a <= agents; a++) for (let k = 0; k < LOCKS_PER_AGENT; k++) bare.set(lockPath(a, k), a);
  const mapFloor = medianNsPerCall(20_000, 21, (i) => {
    sink ^= bare.get(lockPath(pick(i), i & 3)) ?? 0;
  });
  const base = seed(agents);
  const seedCalls = agents >= 100_000 ? 20 : agents >= 1_000 ? 500 : 20_000;
  const seedPair = medianNsPerCall(seedCalls, 7, (i) => {
    const a = pick(i);
    base.tryLock(a, "bench/extra.rs", NOW);
    base.releaseLock(a, "bench/extra.rs");
  });
  const seedHolder = medianNsPerCall(seedCalls, 7, (i) => {
    sink ^= base.lockHolder(lockPath(pick(i), i & 3), NOW) ?? 0;
  });
  rows.push({ agents, mapFloor, oursHotPair, oursPair, oursHolder, seedPair, seedHolder });
}

const flatHot = (rows[2] as Row).oursHotPair / (rows[0] as Row).oursHotPair;
const flat = (rows[2] as Row).oursPair / (rows[0] as Row).oursPair;
const flatHolder = (rows[2] as Row).oursHolder / (rows[0] as Row).oursHolder;
const flatFloor = (rows[2] as Row).mapFloor / (rows[0] as Row).mapFloor;
const lines = [
  `Machine: ${machineLine()}`,
  "",
  "Each cell is the median of 21 batches of 20,000 calls " +
    "(seed algorithm: 7 batches of up to 20,000, fewer at large sizes).",
  '"random agent" picks a different agent on every call (cache-hostile); ' +
    '"hot agent" repeats one agent among all of them.',
  "",
  "| agents (4 locks each) | tryLock+releaseLock, ours, hot agent | same, ours, random agent " +
    "| same, seed algorithm, random agent | lockHolder, ours, random path | lockHolder, seed algorithm " +
    "| floor: bare Map.get, same paths |",
  "|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.agents.toLocaleString("en")} | ${fmtUs(r.oursHotPair)} | ${fmtUs(r.oursPair)} | ${fmtUs(r.seedPair)} ` +
      `| ${fmtUs(r.oursHolder)} | ${fmtUs(r.seedHolder)} | ${fmtUs(r.mapFloor)} |`,
  ),
  "",
  `Flatness, 100,000 vs 10 agents (target ≤ 1.5×): tryLock+releaseLock hot agent ${flatHot.toFixed(2)}×, ` +
    `random agent ${flat.toFixed(2)}×; lockHolder random path ${flatHolder.toFixed(2)}×, ` +
    `against ${flatFloor.toFixed(2)}× for a bare Map.get on the same paths (the memory floor).`,
  `Memory (JS heap and array buffers): ${Math.round(bytesPerAgent)} bytes per agent, ` +
    `${Math.round(bytesPerLock)} bytes per lock (100,000 agents, 400,000 locks).`,
];
console.log(lines.join("\n"));
if (sink === 0.5 || agentsOnly.listAgents().length !== 100_000) console.log("unreachable");
