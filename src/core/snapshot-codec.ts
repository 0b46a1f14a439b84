import type * as z from "zod/mini";
import type { RegistryConfig } from "../../protocol/common.js";
import { HostlibSnapshotInput, SNAPSHOT_FORMAT_VERSION, type Snapshot, SnapshotInput } from "../../protocol/snapshot.js";
import { InvalidInputError, describeIssue, fieldName } from "./errors.js";
import { normalizePath } from "./paths.js";
import { RegistryState } from "./state.js";
import type { Change } from "./version-log.js";

/** A snapshot decoded into a fresh state, and its config when it carried one (harn-hostlib snapshots do not). */
export interface DecodedSnapshot {
  state: RegistryState;
  config?: RegistryConfig;
}

/**
 * Validate a snapshot completely (shape with zod, then the cross-field
 * rules: unique ids, one holder per path, seqs unique and ≤ current_seq)
 * and build a fresh state from it. Throws {@link InvalidInputError} naming
 * the first bad field as `snapshot.<path>`; the running state is untouched.
 * Locks of agents that are not active are dropped (only live agents hold
 * locks); a `next_id` at or below an existing id is raised past it.
 */
export function decodeSnapshot(input: unknown): DecodedSnapshot {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError("snapshot", "must be an object");
  }
  const parsed = "format_version" in input ? SnapshotInput.safeParse(input) : HostlibSnapshotInput.safeParse(input);
  if (!parsed.success) {
    const { path, problem } = describeIssue(parsed.error.issues[0] as z.core.$ZodIssue, input);
    throw new InvalidInputError(fieldName(["snapshot", ...path]), problem);
  }
  const data = parsed.data;
  const state = new RegistryState();

  data.agents.agents.forEach((entry, index) => {
    if (state.agents.has(entry.id)) throw new InvalidInputError(`snapshot.agents.agents[${index}].id`, `repeats agent id ${entry.id}`);
    const agent = state.addAgent(entry.id, entry.name, entry.state, entry.last_seen_ms, entry.edit_count);
    for (const rawPath in entry.locked_paths) {
      const at = () => `snapshot.agents.agents[${index}].locked_paths[${JSON.stringify(rawPath)}]`;
      const path = normalizeAt(rawPath, at);
      if (agent.state !== "active") continue;
      const held = state.claim(agent, path, entry.locked_paths[rawPath] as number);
      if (held !== undefined) throw new InvalidInputError(at(), `is also locked by agent ${held.holder.id}`);
    }
  });
  state.nextId = Math.max(state.nextId, data.agents.next_id);

  const currentSeq = data.versions.current_seq;
  const seenSeqs = new Set<number>();
  const seenPaths = new Map<string, string>();
  const changes: Change[] = [];
  for (const rawPath in data.versions.history) {
    const at = `snapshot.versions.history[${JSON.stringify(rawPath)}]`;
    const path = normalizeAt(rawPath, () => at);
    const clash = seenPaths.get(path);
    if (clash !== undefined) throw new InvalidInputError(at, `names the same file as ${JSON.stringify(clash)}`);
    seenPaths.set(path, rawPath);
    (data.versions.history[rawPath] as Omit<Change, "path">[]).forEach((entry, index) => {
      if (entry.seq > currentSeq) throw new InvalidInputError(`${at}[${index}].seq`, `is ${entry.seq}, above current_seq ${currentSeq}`);
      if (seenSeqs.has(entry.seq)) throw new InvalidInputError(`${at}[${index}].seq`, `repeats seq ${entry.seq}`);
      seenSeqs.add(entry.seq);
      changes.push({ path, ...entry });
    });
  }
  state.versions.load(currentSeq, changes);
  return "config" in data ? { state, config: data.config as RegistryConfig } : { state };
}

/** The state as a snapshot: agents by id, paths sorted, so equal states give equal JSON. */
export function encodeSnapshot(state: RegistryState, config: RegistryConfig, now: number): Snapshot {
  const agents = [...state.agents.values()]
    .sort((a, b) => a.id - b.id)
    .map((agent) => {
      const locked_paths: Record<string, number> = {};
      for (const lock of [...agent.locks.values()].sort((a, b) => compareStrings(a.path, b.path))) {
        locked_paths[lock.path] = lock.expiresAtMs;
      }
      return {
        id: agent.id,
        name: agent.name,
        state: agent.state,
        last_seen_ms: agent.lastSeenMs,
        edit_count: agent.editCount,
        locked_paths,
      };
    });
  return {
    format_version: SNAPSHOT_FORMAT_VERSION,
    taken_at_ms: now,
    config: { ...config },
    agents: { next_id: state.nextId, agents },
    versions: { current_seq: state.versions.currentSeq, history: state.versions.history() },
  };
}

/** Code-unit order, the same in every locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Normalise a path from a snapshot; the field name is only built when the path is bad. */
function normalizeAt(path: string, field: () => string): string {
  try {
    return normalizePath(path);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(field(), error.problem);
    throw error;
  }
}
