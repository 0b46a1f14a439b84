import type { RegistryOptions } from "../../src/core/registry.js";
import { type DurableState, openDurableState } from "../../src/storage/durable-state.js";

/** Open a state directory in this process; a fatal journal error fails the test. */
export function openState(dir: string, registry: RegistryOptions, compactBytes = 1 << 30): Promise<DurableState> {
  return openDurableState({
    dir,
    registry,
    compactBytes,
    log: () => {},
    onFatal: (error) => {
      throw error;
    },
  });
}
