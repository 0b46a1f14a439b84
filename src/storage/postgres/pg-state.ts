// PLACEHOLDER so that the server compiles: the coordinator replaces this file with PostgreSQL state (see
// /work/wt/pg-design.md, "Store layer").
import type { RegistryOptions } from "../../core/registry.js";
import type { RegistryStore, ServedStore } from "../../core/store.js";
import type { ServerClock } from "../../server/clock.js";
import type { JournalStats } from "../../server/metrics.js";

/** PostgreSQL state: the store (answering with promises), its replica read at once, the database's clock. */
export interface PgState {
  store: ServedStore;
  view: RegistryStore;
  clock: ServerClock;
  recovered: { seq: number; entries: number; snapshotSeq: number | null };
  stats(): JournalStats | null;
  close(): Promise<void>;
}

/** Open PostgreSQL state at `url` (not built yet). */
export async function openPgState(options: {
  url: string;
  clock: "system" | "manual";
  registry: RegistryOptions;
  keepAgents: boolean;
  log(line: string): void;
  onFatal(error: Error): void;
}): Promise<PgState> {
  throw new Error(`PostgreSQL state is not built yet (${options.url.split(":")[0]})`);
}
