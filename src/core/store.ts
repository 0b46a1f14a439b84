import type { RegistryConfig } from "../../protocol/common.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import type { Change, EditOpName } from "./version-log.js";

export type { RegistryConfig, Snapshot, Change, EditOpName };

/** Agent lifecycle state. */
export type AgentStateName = "active" | "crashed" | "gone";

/** One agent as `status` lists it. */
export interface AgentSummary {
  id: number;
  name: string;
  state: AgentStateName;
  last_seen_ms: number;
  edit_count: number;
  lock_count: number;
}

/** One agent with its locks, as `agent_get` returns it. */
export interface AgentDetail {
  id: number;
  name: string;
  state: AgentStateName;
  last_seen_ms: number;
  edit_count: number;
  locks: { path: string; expires_at_ms: number }[];
}

/** One live lock. */
export interface LockView {
  path: string;
  agent_id: number;
  expires_at_ms: number;
}

/** Outcome of `tryLock`: `holder` is the caller when granted, the blocking agent when refused. */
export interface TryLockResult {
  locked: boolean;
  holder: number | null;
}

/** A change to record; hash as integer, bigint or decimal string. */
export interface RecordInput {
  path: string;
  agentId: number;
  op?: EditOpName;
  hash?: string | number | bigint;
  size?: number;
}

/** What a restore brought in, after reaping. */
export interface RestoreSummary {
  agents: number;
  locks: number;
  current_seq: number;
}

/**
 * The operations the server calls. Every method first evaluates time-driven
 * state at the current time (crashes silent agents, drops expired locks),
 * validates its input and throws {@link InvalidInputError} or
 * {@link DomainError} without changing anything when the input is bad.
 */
export interface RegistryStore {
  now(): number;
  config(): RegistryConfig;
  setConfig(config: Partial<RegistryConfig>): RegistryConfig;
  register(name: string): number;
  registerWithId(id: number, name: string): number;
  heartbeat(id: number): void;
  unregister(id: number): boolean;
  noteEdit(id: number): void;
  tryLock(agentId: number, path: string, ttlMs?: number): TryLockResult;
  releaseLock(agentId: number, path: string): boolean;
  lockHolder(path: string): number | null;
  listLocks(filter?: { agentId?: number; prefix?: string }): LockView[];
  getAgent(id: number): AgentDetail | null;
  agentDetails(): AgentDetail[];
  listAgents(): AgentSummary[];
  reap(): number[];
  recordVersion(input: RecordInput): number;
  changesSince(seq: number, limit?: number): Change[];
  currentSeq(): number;
  snapshot(): Snapshot;
  restore(snapshot: unknown, options?: { reap?: boolean }): RestoreSummary;
}
