import { z } from "zod";
import { MAX_ID, MillisByPath, AgentId, AgentState, Count, EditOp, EditorId, HashInput, HashOutput, Millis, RegistryConfig } from "./common.js";

/** Current snapshot format. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** Next id to assign: one past the largest id, so it may reach 2^53. */
const NextId = z
  .number()
  .refine((n) => Number.isInteger(n) && n >= 1 && n <= MAX_ID + 1, { error: "must be an integer from 1 to 2^53" });

const lockedPaths = MillisByPath;

const historyEntry = <H extends z.ZodType>(hash: H) =>
  z.strictObject({ seq: z.int().min(1), agent_id: EditorId, timestamp_ms: Millis, op: EditOp, hash, size: Count });

const agentEntry = z.strictObject({
  id: AgentId,
  name: z.string(),
  state: AgentState,
  last_seen_ms: Millis,
  edit_count: Count,
  locked_paths: lockedPaths,
});

/** A snapshot as the sidecar writes it. */
export const Snapshot = z.strictObject({
  format_version: z.literal(SNAPSHOT_FORMAT_VERSION),
  taken_at_ms: Millis,
  config: RegistryConfig,
  agents: z.strictObject({ next_id: NextId, agents: z.array(agentEntry) }),
  versions: z.strictObject({
    current_seq: Count,
    history: z.record(z.string(), z.array(historyEntry(HashOutput))),
  }),
});
export type Snapshot = z.infer<typeof Snapshot>;
export type SnapshotAgent = z.infer<typeof agentEntry>;
export type SnapshotEntry = Snapshot["versions"]["history"][string][number];

/** A snapshot as `restore` accepts it: ours (hash as integer or string), checked strictly. */
export const SnapshotInput = Snapshot.extend({
  versions: z.strictObject({
    current_seq: Count,
    history: z.record(z.string(), z.array(historyEntry(HashInput))),
  }),
});

/**
 * The `agents` and `versions` sections of harn-hostlib's
 * `.burin/index/snapshot.json`; every other section is ignored. Missing
 * fields take serde's defaults.
 */
export const HostlibSnapshotInput = z.looseObject({
  agents: z
    .looseObject({
      next_id: z.union([z.literal(0), NextId]).default(0),
      agents: z.array(agentEntry.extend({ edit_count: Count.default(0), locked_paths: lockedPaths.default({}) })).default([]),
    })
    .default({ next_id: 0, agents: [] }),
  versions: z
    .looseObject({
      current_seq: Count.default(0),
      history: z.record(z.string(), z.array(historyEntry(HashInput))).default({}),
    })
    .default({ current_seq: 0, history: {} }),
});

/** What `restore` accepts: ours when the value has `format_version`, otherwise harn-hostlib's. */
export type RestoreInput = z.infer<typeof SnapshotInput> | z.infer<typeof HostlibSnapshotInput>;
