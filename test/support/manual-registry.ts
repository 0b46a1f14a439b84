import { Registry } from "../../src/core/registry.js";
import type { RegistryConfig } from "../../protocol/common.js";

/** A registry on a hand-driven clock: set `clock.now` to move time. */
export function manualRegistry(start = 0, config?: Partial<RegistryConfig>): { reg: Registry; clock: { now: number } } {
  const clock = { now: start };
  const reg = new Registry({ now: () => clock.now, ...(config ? { config } : {}) });
  return { reg, clock };
}
