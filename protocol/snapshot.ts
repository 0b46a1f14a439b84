import * as z from "zod/mini";
import {
  AgentId,
  AgentState,
  Count,
  EditOp,
  EditorId,
  FencesByPath,
  HashInput,
  HashOutput,
  Millis,
  MillisByPath,
  NextCounter,
  NextCounterInput,
  RegistryConfig,
  Seq,
  recordOf,
} from "./common.js";
import { SNAPSHOT_FORMAT_VERSION } from "./constants.js";

const historyEntry = <H extends z.ZodMiniType>(hash: H) =>
  z.strictObject({ seq: Seq, agent_id: EditorId, timestamp_ms: Millis, op: EditOp, hash, size: Count });

const agentEntry = z.strictObject({
  id: AgentId,
  name: z.string({ error: "must be a string" }),
  state: AgentState,
  last_seen_ms: Millis,
  edit_count: Count,
  locked_paths: MillisByPath,
});

/**
 * Format 2: each agent also has `lock_fences` (the fence of every path in
 * `locked_paths`) and `shared_paths` (those held in shared mode; the others
 * are exclusive).
 */
const agentEntryV2 = z.extend(agentEntry, {
  lock_fences: FencesByPath,
  shared_paths: z.array(z.string({ error: "must be a string" })),
});

/** Each path's last changes, keyed by path. */
const historyOf = <H extends z.ZodMiniType>(hash: H) =>
  recordOf(z.array(historyEntry(hash)), "must be an object mapping each path to its changes");

const versionsOf = <H extends z.ZodMiniType>(hash: H) =>
  z.strictObject({ current_seq: Count, history: historyOf(hash) });

/** A snapshot as the sidecar writes it. */
export const Snapshot = z.strictObject({
  format_version: z.literal(SNAPSHOT_FORMAT_VERSION, { error: `must be ${SNAPSHOT_FORMAT_VERSION}` }),
  taken_at_ms: Millis,
  config: RegistryConfig,
  agents: z.strictObject({ next_id: NextCounter, next_fence: NextCounter, agents: z.array(agentEntryV2) }),
  versions: versionsOf(HashOutput),
});
export type Snapshot = z.infer<typeof Snapshot>;
export type SnapshotAgent = z.infer<typeof agentEntryV2>;
/** One agent entry of a format-2 snapshot, and of a format-1 one. */
export const SnapshotAgentEntry = agentEntryV2;
export const SnapshotV1AgentEntry = agentEntry;
export type SnapshotEntry = Snapshot["versions"]["history"][string][number];

/** A format-2 snapshot as `restore` accepts it (hash as integer or string, counters at 2^53 as bigint). */
export const SnapshotInput = z.extend(Snapshot, {
  agents: z.strictObject({ next_id: NextCounterInput, next_fence: NextCounterInput, agents: z.array(agentEntryV2) }),
  versions: versionsOf(HashInput),
});

/** A format-1 snapshot (before lock modes and fences): every lock is exclusive and gets a fresh fence. */
export const SnapshotV1Input = z.strictObject({
  format_version: z.literal(1),
  taken_at_ms: Millis,
  config: RegistryConfig,
  agents: z.strictObject({ next_id: NextCounterInput, agents: z.array(agentEntry) }),
  versions: versionsOf(HashInput),
});

/**
 * The `agents` and `versions` sections of harn-hostlib's
 * `.burin/index/snapshot.json`; every other section is ignored. Both
 * sections are required (an object that has neither is not a snapshot);
 * missing fields inside them take serde's defaults.
 */
export const HostlibSnapshotInput = z.looseObject({
  agents: z.looseObject(
    {
      next_id: z._default(z.union([z.literal(0), NextCounterInput]), 0),
      agents: z._default(
        z.array(
          z.extend(agentEntry, {
            edit_count: z._default(Count, 0),
            locked_paths: z._default(MillisByPath, () => Object.create(null)),
          }),
        ),
        [],
      ),
    },
    { error: "must be an object" },
  ),
  versions: z.looseObject(
    {
      current_seq: z._default(Count, 0),
      history: z._default(historyOf(HashInput), () => Object.create(null)),
    },
    { error: "must be an object" },
  ),
});

/**
 * The sections every snapshot must carry: ours also `format_version` (and the rest of its fields), harn-hostlib's these
 * two.
 */
export const REQUIRED_SNAPSHOT_SECTIONS = ["agents", "versions"] as const;

/** What `restore` accepts: ours (format 1 or 2) when the value has `format_version`, otherwise harn-hostlib's. */
export type RestoreInput =
  | z.infer<typeof SnapshotInput>
  | z.infer<typeof SnapshotV1Input>
  | z.infer<typeof HostlibSnapshotInput>;
