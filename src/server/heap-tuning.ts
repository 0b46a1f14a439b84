import { setFlagsFromString } from "node:v8";

/**
 * Keep V8's young generation at its starting size instead of letting it
 * grow to 2 × 16 MiB. A sidecar's footprint matters more than the last
 * percent of allocation throughput: measured at 100,000 agents and
 * 400,000 locks, it saves about 30 MiB of RSS (BENCHMARKS.md). This is the
 * one V8 setting that still takes effect when set from inside a running
 * process (the semi-space size flags are read only at start-up).
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}
