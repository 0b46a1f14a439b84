import type * as z from "zod/mini";
import type { RegistryConfig } from "../../protocol/common.js";
import { SNAPSHOT_FORMAT_VERSION } from "../../protocol/constants.js";
import { zodSchemas } from "../../protocol/on-demand.js";
import type { Precheck } from "../../protocol/precheck-plan.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import { roomFrom } from "./counters.js";
import { dictionary, inCodeUnitOrder, isIndexKey } from "./dictionary.js";
import { InvalidInputError, describeIssue, fieldName } from "./errors.js";
import type { LockMode } from "./lock-table.js";
import { normalizePath } from "./paths.js";
import { type Agent, RegistryData, agentFields, locksByPath } from "./registry-data.js";
import type { Change } from "./version-log.js";

/** What every accepted snapshot format decodes to (format 1 and harn-hostlib lack the fence fields). */
interface AnySnapshot {
  config?: RegistryConfig;
  agents: {
    next_id: number;
    next_fence?: number;
    agents: {
      id: number;
      name: string;
      state: Agent["state"];
      last_seen_ms: number;
      edit_count: number;
      locked_paths: Record<string, number>;
      lock_fences?: Record<string, number>;
      shared_paths?: string[];
    }[];
  };
  versions: { current_seq: number; history: Record<string, Omit<Change, "path">[]> };
}

/**
 * Agent entries are checked by predicates compiled from their schemas (about 10× faster than zod on 100,000 entries);
 * zod runs on the rest, and on the entries only to name a bad one. Compiled on first use.
 */
let agentEntryChecks: Map<unknown, Precheck> | undefined;

/** A snapshot decoded into fresh registry data, and its config when it carried one (harn-hostlib snapshots do not). */
export interface DecodedSnapshot {
  data: RegistryData;
  config?: RegistryConfig;
}

/**
 * Validate a snapshot completely (its required sections: every field of
 * ours, `agents` and `versions` of harn-hostlib's; shape with zod; then the
 * cross-field rules: unique ids, no two conflicting locks under the one conflict rule,
 * fences unique and below `next_fence`, seqs unique and ≤ current_seq) and
 * build fresh registry data from it. Throws {@link InvalidInputError} naming the
 * first bad field as `snapshot.<path>`; the running registry is untouched.
 * Locks of agents that are not active are dropped; a `next_id` at or below
 * an existing id is raised past it. Format 1 and harn-hostlib snapshots
 * have no modes or fences: their locks are exclusive and get fresh fences
 * from `fenceFloor` (the running counter) up, so no fence is ever reused,
 * and a lock that would need one past 2^53-1 is refused. Objects keyed by
 * paths are read by own key only (they may come with a prototype): a path
 * such as `__proto__` is data, and `toString` is not in an object that
 * does not name it.
 */
export function decodeSnapshot(input: unknown, fenceFloor: number): DecodedSnapshot {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError("snapshot", "must be an object");
  }
  const version = (input as { format_version?: unknown }).format_version;
  const schemas = zodSchemas();
  agentEntryChecks ??= new Map([
    [1, schemas.precheck(schemas.SnapshotV1AgentEntry)],
    [2, schemas.precheck(schemas.SnapshotAgentEntry)],
  ]);
  const schema =
    version === undefined
      ? schemas.HostlibSnapshotInput
      : version === 1
        ? schemas.SnapshotV1Input
        : version === 2
          ? schemas.SnapshotInput
          : undefined;
  if (schema === undefined)
    throw new InvalidInputError(
      "snapshot.format_version",
      `must be 1 or ${SNAPSHOT_FORMAT_VERSION}, got ${JSON.stringify(version)}`,
    );
  if (version === undefined) {
    const missing = schemas.REQUIRED_SNAPSHOT_SECTIONS.find(
      (section) => !Object.hasOwn(input, section) || (input as Record<string, unknown>)[section] === undefined,
    );
    if (missing !== undefined) {
      throw new InvalidInputError(
        `snapshot.${missing}`,
        "is required: a snapshot without format_version is read as harn-hostlib's, which must have its agents and " +
          "versions sections",
      );
    }
  }
  const sections = input as { agents?: { agents?: unknown } };
  const entries = sections.agents?.agents;
  const entryCheck = agentEntryChecks.get(version);
  const entriesValid = entryCheck !== undefined && Array.isArray(entries) && entries.every(entryCheck);
  const parsed = schema.safeParse(entriesValid ? { ...sections, agents: { ...sections.agents, agents: [] } } : input);
  if (!parsed.success) {
    const { path, problem } = describeIssue(parsed.error.issues[0] as z.core.$ZodIssue, input);
    throw new InvalidInputError(fieldName(["snapshot", ...path]), problem);
  }
  const snapshot = parsed.data as AnySnapshot;
  if (entriesValid) snapshot.agents.agents = entries as AnySnapshot["agents"]["agents"];
  const data = new RegistryData();
  const savedFence = snapshot.agents.next_fence;
  data.nextFence = Math.max(fenceFloor, savedFence ?? 1);
  const fences: number[] = [];

  snapshot.agents.agents.forEach((entry, index) => {
    if (data.agents.has(entry.id))
      throw new InvalidInputError(`snapshot.agents.agents[${index}].id`, `repeats agent id ${entry.id}`);
    const agent = data.addAgent(entry.id, entry.name, entry.state, entry.last_seen_ms, entry.edit_count);
    const locked = entry.locked_paths;
    const rawPaths = Object.keys(locked);
    const fenceOf = entry.lock_fences;
    if (fenceOf !== undefined) {
      const fencePaths = Object.keys(fenceOf);
      const extra =
        fencePaths.length === rawPaths.length
          ? undefined
          : fencePaths.find((rawPath) => !Object.hasOwn(locked, rawPath));
      if (extra !== undefined)
        throw new InvalidInputError(fenceField(index, extra), "names a path missing from locked_paths");
    }
    const shared =
      entry.shared_paths !== undefined && entry.shared_paths.length > 0 ? new Set(entry.shared_paths) : undefined;
    entry.shared_paths?.forEach((rawPath, at) => {
      if (!Object.hasOwn(locked, rawPath))
        throw new InvalidInputError(
          `snapshot.agents.agents[${index}].shared_paths[${at}]`,
          `names ${JSON.stringify(rawPath)}, missing from locked_paths`,
        );
    });
    if (agent.state === "active") agent.locks.reserve(rawPaths.length);
    for (const rawPath of rawPaths) {
      const path = normalizeAt(rawPath, lockField, index, rawPath);
      const fence = fenceOf !== undefined && Object.hasOwn(fenceOf, rawPath) ? fenceOf[rawPath] : undefined;
      if (fenceOf !== undefined && fence === undefined)
        throw new InvalidInputError(
          `snapshot.agents.agents[${index}].lock_fences`,
          `has no entry for ${JSON.stringify(rawPath)}`,
        );
      if (fence !== undefined) {
        if (fence >= (savedFence as number))
          throw new InvalidInputError(fenceField(index, rawPath), `is ${fence}, not below next_fence ${savedFence}`);
        fences.push(fence);
      }
      if (agent.state !== "active") continue;
      place(
        data,
        agent,
        path,
        shared?.has(rawPath) ? "shared" : "exclusive",
        locked[rawPath] as number,
        fence,
        index,
        rawPath,
      );
    }
  });
  checkFencesUnique(fences, snapshot);
  data.nextId = Math.max(data.nextId, snapshot.agents.next_id);

  const currentSeq = snapshot.versions.current_seq;
  const seenSeqs = new Set<number>();
  const seenPaths = new Map<string, string>();
  const changes: Change[] = [];
  const history = snapshot.versions.history;
  for (const rawPath of Object.keys(history)) {
    const at = `snapshot.versions.history[${JSON.stringify(rawPath)}]`;
    const path = normalizeAt(rawPath, () => at, 0, rawPath);
    const clash = seenPaths.get(path);
    if (clash !== undefined) throw new InvalidInputError(at, `names the same file as ${JSON.stringify(clash)}`);
    seenPaths.set(path, rawPath);
    (history[rawPath] as Omit<Change, "path">[]).forEach((entry, index) => {
      if (entry.seq > currentSeq)
        throw new InvalidInputError(`${at}[${index}].seq`, `is ${entry.seq}, above current_seq ${currentSeq}`);
      if (seenSeqs.has(entry.seq)) throw new InvalidInputError(`${at}[${index}].seq`, `repeats seq ${entry.seq}`);
      seenSeqs.add(entry.seq);
      changes.push({ path, ...entry });
    });
  }
  data.versions.load(currentSeq, changes);
  return snapshot.config === undefined ? { data } : { data, config: snapshot.config };
}

/** Put one restored lock in place, refusing one that conflicts with a lock already placed. */
function place(
  data: RegistryData,
  agent: Agent,
  path: string,
  mode: LockMode,
  expiry: number,
  fence: number | undefined,
  index: number,
  rawPath: string,
): void {
  if (agent.locks.has(path))
    throw new InvalidInputError(lockField(index, rawPath), `names ${JSON.stringify(path)} again`);
  if (fence === undefined && roomFrom(data.nextFence) < 1) {
    throw new InvalidInputError(
      lockField(index, rawPath),
      `needs a fresh fence, and every fence up to 2^53-1 is taken (the next would be ${data.nextFence})`,
    );
  }
  const conflict = data.place(agent, path, mode, expiry, fence ?? data.nextFence++);
  if (conflict !== undefined) {
    const where =
      conflict.path === undefined ? ` below ${JSON.stringify(path)}` : ` on ${JSON.stringify(conflict.path)}`;
    throw new InvalidInputError(
      lockField(index, rawPath),
      `conflicts with a lock of agent ${conflict.holderId}${where}`,
    );
  }
}

/**
 * The registry data as a snapshot: agents by id, so equal data give equal JSON.
 * The maps keyed by path (`locked_paths`, `lock_fences`,
 * `versions.history`) have no prototype and list their keys in code-unit
 * order, integer-like paths ("9", "10") included (see inCodeUnitOrder), so
 * JSON.stringify writes the documented order wherever the snapshot goes:
 * the `snapshot` reply, state.json, a restore's journal entry.
 */
export function encodeSnapshot(data: RegistryData, config: RegistryConfig, now: number): Snapshot {
  const agents = data.agentsById().map((agent) => {
    const locked_paths = dictionary<number>();
    const lock_fences = dictionary<number>();
    const shared_paths: string[] = [];
    let hasIndexKey = false;
    for (const lock of locksByPath(agent)) {
      if (!hasIndexKey && isIndexKey(lock.path)) hasIndexKey = true;
      locked_paths[lock.path] = lock.expiresAtMs;
      lock_fences[lock.path] = lock.fence;
      if (lock.mode === "shared") shared_paths.push(lock.path);
    }
    return {
      ...agentFields(agent),
      locked_paths: inCodeUnitOrder(locked_paths, hasIndexKey),
      lock_fences: inCodeUnitOrder(lock_fences, hasIndexKey),
      shared_paths,
    };
  });
  return {
    format_version: SNAPSHOT_FORMAT_VERSION,
    taken_at_ms: now,
    config: { ...config },
    agents: { next_id: data.nextId, next_fence: data.nextFence, agents },
    versions: { current_seq: data.versions.currentSeq, history: data.versions.history() },
  };
}

/** Normalise a path from a snapshot; the field name is only built when the path is bad. */
function normalizeAt(
  path: string,
  field: (index: number, rawPath: string) => string,
  index: number,
  rawPath: string,
): string {
  try {
    return normalizePath(path);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(field(index, rawPath), error.problem);
    throw error;
  }
}

function fenceField(index: number, rawPath: string): string {
  return `snapshot.agents.agents[${index}].lock_fences[${JSON.stringify(rawPath)}]`;
}

/** Fences are unique: sorted once (not a set of 400,000); a repeat is then found again in order to name where it is. */
function checkFencesUnique(fences: number[], snapshot: AnySnapshot): void {
  const sorted = Float64Array.from(fences).sort();
  let repeated: number | undefined;
  for (let i = 1; i < sorted.length && repeated === undefined; i++)
    if (sorted[i] === sorted[i - 1]) repeated = sorted[i];
  if (repeated === undefined) return;
  let seen = false;
  snapshot.agents.agents.forEach((entry, index) => {
    const fenceOf = entry.lock_fences ?? dictionary<number>();
    for (const rawPath of Object.keys(fenceOf)) {
      if (fenceOf[rawPath] !== repeated) continue;
      if (seen) throw new InvalidInputError(fenceField(index, rawPath), `repeats fence ${repeated}`);
      seen = true;
    }
  });
}

function lockField(index: number, rawPath: string): string {
  return `snapshot.agents.agents[${index}].locked_paths[${JSON.stringify(rawPath)}]`;
}
