import type * as z from "zod/mini";
import type { AgentState, RegistryConfig } from "../../protocol/common.js";
import type { ResultOf } from "../../protocol/methods.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import type { EventLog } from "./events.js";
import type { LockMode } from "./lock-table.js";
import type { Change, EditOpName } from "./version-log.js";
import type { WaitOutcome } from "./wait-queue.js";

export type { RegistryConfig, Snapshot, Change, EditOpName, LockMode, WaitOutcome };

/** Agent lifecycle state. */
export type AgentStateName = z.infer<typeof AgentState>;

/** One agent as `status` lists it. */
export type AgentSummary = ResultOf<"status">["agents"][number];

/** One agent with its locks, as `agent_get` returns it. */
export type AgentDetail = NonNullable<ResultOf<"agent_get">>;

/** One live lock, as `lock_list` lists it. */
export type LockView = ResultOf<"lock_list">[number];

/** Outcome of `tryLock`: `holder` is the caller when granted, the blocking agent (or null) when refused. */
export type TryLockResult = ResultOf<"lock_try">;

/**
 * A change to record; hash as integer, bigint or decimal string. With `fence`, the agent must hold a live lock with
 * that fence on the path or a covering directory.
 */
export interface RecordInput {
  path: string;
  agentId: number;
  op?: EditOpName;
  hash?: string | number | bigint;
  size?: number;
  fence?: number;
}

/** An atomic acquire of one or more paths. */
export interface AcquireInput {
  agentId: number;
  paths: string[];
  mode?: LockMode;
  ttlMs?: number;
  waitMs?: number;
}

/** Outcome of an acquire: all paths granted, or none and why. */
export type AcquireResult = ResultOf<"lock_acquire">;

/** A lock as an acquire or renew reports it. */
export type GrantedLock = AcquireResult["locks"][number];

/**
 * Something that blocks an acquire: a held lock, or (`queued`) an earlier request waiting for `path` (then
 * `expires_at_ms` is null).
 */
export type Conflict = AcquireResult["conflicts"][number];

/** Outcome of a renew; `missing` lists paths the agent does not hold (an expired lock is not revived). */
export type RenewResult = ResultOf<"lock_renew">;

/** Who holds one exact path, and how many requests wait for it. */
export type LockInfo = NonNullable<ResultOf<"lock_info">>;

/** The registry's counters and gauges, as `metrics` reports them. */
export type RegistryStats = Pick<ResultOf<"metrics">, "locks" | "waits" | "agents">;

/** What a restore brought in, after reaping. */
export type RestoreSummary = ResultOf<"restore">;

/**
 * The operations the server calls. Every method first evaluates time-driven
 * state at the current time (crashes silent agents, drops expired locks),
 * validates its input and throws {@link InvalidInputError} or
 * {@link DomainError} without changing anything when the input is bad.
 */
export interface RegistryStore {
  readonly events: EventLog;
  now(): number;
  config(): RegistryConfig;
  setConfig(config: Partial<RegistryConfig>): RegistryConfig;
  register(name: string): number;
  registerWithId(id: number, name: string): number;
  heartbeat(id: number): void;
  unregister(id: number): boolean;
  noteEdit(id: number): void;
  tryLock(agentId: number, path: string, ttlMs?: number): TryLockResult;
  acquire(
    input: AcquireInput,
    onWaitDone?: (outcome: WaitOutcome<AcquireResult>) => void,
  ): AcquireResult | { waiting: number };
  cancelWait(waiterId: number): boolean;
  releaseLock(agentId: number, path: string): boolean;
  releaseAll(agentId: number): string[];
  forceRelease(path: string, note?: string): { path: string; agent_id: number }[];
  renew(agentId: number, paths?: string[], ttlMs?: number): RenewResult;
  lockHolder(path: string): number | null;
  lockInfo(path: string): LockInfo | null;
  lockCheck(agentId: number | undefined, paths: string[], mode?: LockMode): Conflict[];
  nextDeadline(): number | undefined;
  listLocks(filter?: { agentId?: number; prefix?: string }): LockView[];
  agentState(id: number): AgentStateName | undefined;
  getAgent(id: number): AgentDetail | null;
  agentDetails(): AgentDetail[];
  listAgents(): AgentSummary[];
  reap(): number[];
  tick(): void;
  crashAgents(ids: readonly number[]): number[];
  stats(): RegistryStats;
  recordVersion(input: RecordInput): number;
  changesSince(seq: number, limit?: number): Change[];
  currentSeq(): number;
  snapshot(): Snapshot;
  restore(snapshot: unknown, options?: { reap?: boolean }): RestoreSummary;
}

/** A value, or a promise of it (what a {@link ServedStore} answers). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A store whose changes and reads may answer later (PostgreSQL): each of its methods may return a promise. Its other
 * members (`events`) stay synchronous. Every {@link RegistryStore} is one. Calls are applied in call order, each one
 * only once the promise of the one before has settled and a macrotask has passed: the server answers a call, reads
 * what this process knows (its view, its events) and sends events in between, and those must not show later calls yet
 * (test/support/async-store.ts applies one call per setImmediate).
 */
export type ServedStore = {
  [K in keyof RegistryStore]: RegistryStore[K] extends (...args: infer A) => infer R
    ? (...args: A) => MaybePromise<R>
    : RegistryStore[K];
};
