import type { z } from "zod";
import type { RegistryConfig } from "../../protocol/common.js";
import { HostlibSnapshotInput, SnapshotInput } from "../../protocol/snapshot.js";
import { InvalidInputError, fieldName } from "./errors.js";
import { normalizePath } from "./paths.js";
import type { AgentStateName } from "./store.js";
import type { Change } from "./version-log.js";

/** A validated snapshot, ready to be installed. */
export interface DecodedSnapshot {
  /** Present for our own snapshots; harn-hostlib ones keep the running config. */
  config?: RegistryConfig;
  nextId: number;
  agents: {
    id: number;
    name: string;
    state: AgentStateName;
    lastSeenMs: number;
    editCount: number;
    /** Normalised path → expiry; dropped for agents that are not active. */
    locks: [string, number][];
  }[];
  currentSeq: number;
  changes: Change[];
}

/**
 * Validate a snapshot completely (shape with zod, then cross-field rules)
 * and decode it. Throws {@link InvalidInputError} naming the first bad
 * field as `snapshot.<path>`; never partially succeeds.
 */
export function decodeSnapshot(input: unknown): DecodedSnapshot {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError("snapshot", "must be an object");
  }
  const ours = "format_version" in input;
  const parsed = ours ? SnapshotInput.safeParse(input) : HostlibSnapshotInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new InvalidInputError(fieldName(["snapshot", ...issue.path]), issue.message);
  }
  const data = parsed.data;

  const seenIds = new Set<number>();
  const lockOwners = new Map<string, number>();
  const agents = data.agents.agents.map((entry, index) => {
    const at = `snapshot.agents.agents[${index}]`;
    if (seenIds.has(entry.id)) throw new InvalidInputError(`${at}.id`, `repeats agent id ${entry.id}`);
    seenIds.add(entry.id);
    const locks: [string, number][] = [];
    for (const [rawPath, expiry] of Object.entries(entry.locked_paths)) {
      const path = normalizePath(rawPath, `${at}.locked_paths[${JSON.stringify(rawPath)}]`);
      const owner = lockOwners.get(path);
      if (owner !== undefined) {
        throw new InvalidInputError(`${at}.locked_paths[${JSON.stringify(rawPath)}]`, `is also locked by agent ${owner}`);
      }
      lockOwners.set(path, entry.id);
      if (entry.state === "active") locks.push([path, expiry]);
    }
    return {
      id: entry.id,
      name: entry.name,
      state: entry.state,
      lastSeenMs: entry.last_seen_ms,
      editCount: entry.edit_count,
      locks,
    };
  });

  const currentSeq = data.versions.current_seq;
  const seenSeqs = new Set<number>();
  const seenPaths = new Map<string, string>();
  const changes: Change[] = [];
  for (const [rawPath, entries] of Object.entries(data.versions.history)) {
    const at = `snapshot.versions.history[${JSON.stringify(rawPath)}]`;
    const path = normalizePath(rawPath, at);
    const clash = seenPaths.get(path);
    if (clash !== undefined) throw new InvalidInputError(at, `names the same file as ${JSON.stringify(clash)}`);
    seenPaths.set(path, rawPath);
    entries.forEach((entry, index) => {
      if (entry.seq > currentSeq) {
        throw new InvalidInputError(`${at}[${index}].seq`, `is ${entry.seq}, above current_seq ${currentSeq}`);
      }
      if (seenSeqs.has(entry.seq)) throw new InvalidInputError(`${at}[${index}].seq`, `repeats seq ${entry.seq}`);
      seenSeqs.add(entry.seq);
      changes.push({ path, ...entry });
    });
  }

  let nextId = Math.max(1, data.agents.next_id);
  for (const id of seenIds) if (id >= nextId) nextId = id + 1;
  const config = "config" in data ? (data.config as RegistryConfig) : undefined;
  return config ? { config, nextId, agents, currentSeq, changes } : { nextId, agents, currentSeq, changes };
}
