import { EditOp, type RegistryConfig } from "../../protocol/common.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import { DomainError, InvalidInputError } from "./errors.js";
import { normalizePath } from "./paths.js";
import { compareStrings, decodeSnapshot, encodeSnapshot } from "./snapshot-codec.js";
import { type Agent, RegistryState } from "./state.js";
import type {
  AgentDetail,
  AgentSummary,
  EditOpName,
  LockView,
  RecordInput,
  RegistryStore,
  RestoreSummary,
  TryLockResult,
} from "./store.js";
import { canonicalHash, checkAgentId, checkInteger } from "./validate.js";
import type { Change } from "./version-log.js";

/** The seed's defaults. */
export const DEFAULT_CONFIG: RegistryConfig = { default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 };

/** Options of a {@link Registry}. */
export interface RegistryOptions {
  /** Current time in ms; injected so tests and replays control it. */
  now: () => number;
  config?: Partial<RegistryConfig>;
}

/**
 * The in-memory registry: agents, advisory locks and the version log.
 *
 * Deliberate changes from the seed (harn-hostlib 0.7.50 agents.rs):
 * - time-driven state is evaluated eagerly before every operation, from two
 *   deadline heaps (silent agents → crashed, expired locks → removed), so no
 *   result depends on whether someone called `reap`;
 * - a granted lock or a recorded edit revives a crashed agent;
 * - expired locks are removed, so counts and listings show live locks only;
 * - paths are normalised and ids range-checked (see paths.ts, validate.ts);
 * - lock lookups go through a path index, never a scan of all agents.
 * Every method validates its input before touching anything.
 */
export class Registry implements RegistryStore {
  private readonly clock: () => number;
  private lastNow = Number.MIN_SAFE_INTEGER;
  private settings: RegistryConfig = { ...DEFAULT_CONFIG };
  private state = new RegistryState();

  constructor(options: RegistryOptions) {
    this.clock = options.now;
    if (options.config) this.setConfig(options.config);
  }

  /** Current time; never moves backwards even if the injected clock does. */
  now(): number {
    const t = this.clock();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  config(): RegistryConfig {
    return { ...this.settings };
  }

  setConfig(config: Partial<RegistryConfig>): RegistryConfig {
    const next = { ...this.settings };
    if (config.default_lock_ttl_ms !== undefined) {
      next.default_lock_ttl_ms = checkInteger(config.default_lock_ttl_ms, "default_lock_ttl_ms", 1);
    }
    if (config.agent_timeout_ms !== undefined) {
      next.agent_timeout_ms = checkInteger(config.agent_timeout_ms, "agent_timeout_ms", 1);
    }
    this.settings = next;
    this.settle();
    return this.config();
  }

  register(name: string): number {
    checkName(name);
    const now = this.settle();
    const id = this.state.nextId;
    if (id > Number.MAX_SAFE_INTEGER) {
      throw new DomainError("id_space_exhausted", "agent_register: no id left to assign (the next id would exceed 2^53-1)");
    }
    this.state.installAgent(id, name, now);
    return id;
  }

  registerWithId(id: number, name: string): number {
    checkAgentId(id);
    checkName(name);
    this.state.installAgent(id, name, this.settle());
    return id;
  }

  heartbeat(id: number): void {
    checkAgentId(id);
    const now = this.settle();
    const agent = this.state.agents.get(id);
    if (agent === undefined) this.state.installAgent(id, `agent-${id}`, now);
    else this.state.touch(agent, now);
  }

  unregister(id: number): boolean {
    checkAgentId(id);
    this.settle();
    const agent = this.state.agents.get(id);
    if (agent === undefined) return false;
    this.state.removeAgent(agent);
    return true;
  }

  noteEdit(id: number): void {
    checkAgentId(id);
    this.noteEditAt(id, this.settle());
  }

  tryLock(agentId: number, path: string, ttlMs?: number): TryLockResult {
    checkAgentId(agentId);
    const key = normalizePath(path);
    const ttl = ttlMs === undefined ? this.settings.default_lock_ttl_ms : checkInteger(ttlMs, "ttl_ms", 1);
    const now = this.settle();
    const expiresAtMs = now + ttl;
    if (!Number.isSafeInteger(expiresAtMs)) throw new InvalidInputError("ttl_ms", `puts the expiry past 2^53-1 ms (got ${ttl})`);
    const state = this.state;
    const existing = state.locks.get(key);
    if (existing !== undefined && existing.holder.id !== agentId) return { locked: false, holder: existing.holder.id };
    let agent = state.agents.get(agentId);
    if (agent === undefined) agent = state.installAgent(agentId, `agent-${agentId}`, now);
    else state.touch(agent, now);
    if (existing !== undefined) state.setExpiry(existing, expiresAtMs);
    else state.claim(agent, key, expiresAtMs);
    return { locked: true, holder: agentId };
  }

  releaseLock(agentId: number, path: string): boolean {
    checkAgentId(agentId);
    const key = normalizePath(path);
    this.settle();
    const lock = this.state.locks.get(key);
    if (lock === undefined || lock.holder.id !== agentId) return false;
    this.state.removeLock(lock);
    return true;
  }

  lockHolder(path: string): number | null {
    const key = normalizePath(path);
    this.settle();
    return this.state.locks.get(key)?.holder.id ?? null;
  }

  /** Live locks sorted by path; `prefix` keeps a directory and what lies below it, by whole segments. */
  listLocks(filter: { agentId?: number; prefix?: string } = {}): LockView[] {
    const agentId = filter.agentId === undefined ? undefined : checkAgentId(filter.agentId);
    const prefix = filter.prefix === undefined ? undefined : normalizePath(filter.prefix, "prefix");
    this.settle();
    const source = agentId === undefined ? this.state.locks.values() : (this.state.agents.get(agentId)?.locks.values() ?? []);
    const out: LockView[] = [];
    for (const lock of source) {
      if (prefix !== undefined && !isWithin(lock.path, prefix)) continue;
      out.push({ path: lock.path, agent_id: lock.holder.id, expires_at_ms: lock.expiresAtMs });
    }
    return out.sort((a, b) => compareStrings(a.path, b.path));
  }

  getAgent(id: number): AgentDetail | null {
    checkAgentId(id);
    this.settle();
    const agent = this.state.agents.get(id);
    return agent === undefined ? null : detail(agent);
  }

  agentDetails(): AgentDetail[] {
    this.settle();
    return [...this.state.agents.values()].sort((a, b) => a.id - b.id).map(detail);
  }

  listAgents(): AgentSummary[] {
    this.settle();
    return [...this.state.agents.values()]
      .sort((a, b) => a.id - b.id)
      .map((agent) => ({
        id: agent.id,
        name: agent.name,
        state: agent.state,
        last_seen_ms: agent.lastSeenMs,
        edit_count: agent.editCount,
        lock_count: agent.locks.size,
      }));
  }

  /** Evaluate time-driven state now; returns the ids crashed by this evaluation (since the previous operation). */
  reap(): number[] {
    const crashed: number[] = [];
    this.settle(crashed);
    return crashed.sort((a, b) => a - b);
  }

  recordVersion(input: RecordInput): number {
    const agentId = checkInteger(input.agentId, "agent_id", 0);
    const path = normalizePath(input.path);
    const hash = input.hash === undefined ? "0" : canonicalHash(input.hash);
    const size = input.size === undefined ? 0 : checkInteger(input.size, "size", 0);
    const op = checkOp(input.op);
    const now = this.settle();
    const seq = this.state.versions.record({ path, agent_id: agentId, op, hash, size, timestamp_ms: now });
    if (agentId > 0) this.noteEditAt(agentId, now);
    return seq;
  }

  changesSince(seq: number, limit?: number): Change[] {
    checkInteger(seq, "seq", 0);
    if (limit !== undefined) checkInteger(limit, "limit", 1);
    this.settle();
    return this.state.versions.changesSince(seq, limit);
  }

  currentSeq(): number {
    this.settle();
    return this.state.versions.currentSeq;
  }

  snapshot(): Snapshot {
    return encodeSnapshot(this.state, this.settings, this.settle());
  }

  /**
   * Replace the whole state with a snapshot (ours, whose config is adopted,
   * or the `agents` and `versions` sections of a harn-hostlib one), then
   * reap at the current time (the seed's reap_after_recovery). With
   * `reap: false` the snapshot's active agents count as seen now instead, so
   * none of them crashes for silence that happened before the restore.
   * A bad snapshot throws before anything is replaced.
   */
  restore(snapshot: unknown, options: { reap?: boolean } = {}): RestoreSummary {
    const decoded = decodeSnapshot(snapshot);
    const now = this.now();
    this.state = decoded.state;
    if (decoded.config) this.settings = { ...decoded.config };
    if (options.reap === false) {
      for (const agent of this.state.agents.values()) if (agent.state === "active" && agent.lastSeenMs < now) agent.lastSeenMs = now;
    }
    this.settle();
    return { agents: this.state.agents.size, locks: this.state.locks.size, current_seq: this.state.versions.currentSeq };
  }

  /**
   * Bring time-driven state up to now, in deadline order: an agent silent
   * for more than agent_timeout_ms crashes and loses its locks; a lock whose
   * expiry has come is removed. Costs O(k log n) for k due deadlines.
   */
  private settle(crashed?: number[]): number {
    const now = this.now();
    const timeout = this.settings.agent_timeout_ms;
    const state = this.state;
    for (;;) {
      const agent = state.nextSilent();
      const lock = state.expiry.peek();
      const agentDue = agent !== undefined && now - agent.lastSeenMs > timeout;
      const lockDue = lock !== undefined && lock.expiresAtMs <= now;
      if (agentDue && (!lockDue || agent.lastSeenMs + timeout < lock.expiresAtMs)) {
        state.crash(agent);
        crashed?.push(agent.id);
      } else if (lockDue) {
        state.removeLock(lock);
      } else {
        return now;
      }
    }
  }

  private noteEditAt(id: number, now: number): void {
    const agent: Agent | undefined = this.state.agents.get(id);
    if (agent === undefined) return;
    agent.editCount++;
    this.state.touch(agent, now);
  }
}

function detail(agent: Agent): AgentDetail {
  const locks = [...agent.locks]
    .map((lock) => ({ path: lock.path, expires_at_ms: lock.expiresAtMs }))
    .sort((a, b) => compareStrings(a.path, b.path));
  return { id: agent.id, name: agent.name, state: agent.state, last_seen_ms: agent.lastSeenMs, edit_count: agent.editCount, locks };
}

function checkOp(op: unknown): EditOpName {
  if (op === undefined) return "write";
  const parsed = EditOp.safeParse(op);
  if (!parsed.success) throw new InvalidInputError("op", `must be one of ${EditOp.options.join(", ")}, got ${JSON.stringify(op)}`);
  return parsed.data;
}

function checkName(name: unknown): void {
  if (typeof name !== "string") throw new InvalidInputError("name", "must be a string");
}

/** True when `path` is `dir` or lies below it, by whole segments. */
function isWithin(path: string, dir: string): boolean {
  return path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47);
}
