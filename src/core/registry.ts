import { EditOp, type RegistryConfig } from "../../protocol/common.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import { SNAPSHOT_FORMAT_VERSION } from "../../protocol/snapshot.js";
import { DomainError, InvalidInputError } from "./errors.js";
import { type HeapNode, IndexedHeap } from "./heap.js";
import { normalizePath } from "./paths.js";
import { decodeSnapshot } from "./snapshot-codec.js";
import type {
  AgentDetail,
  AgentStateName,
  AgentSummary,
  EditOpName,
  LockView,
  RecordInput,
  RegistryStore,
  RestoreSummary,
  TryLockResult,
} from "./store.js";
import { canonicalHash, checkAgentId, checkInteger } from "./validate.js";
import { type Change, VersionLog } from "./version-log.js";

/** The seed's defaults. */
export const DEFAULT_CONFIG: RegistryConfig = { default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 };

interface Agent extends HeapNode {
  readonly id: number;
  name: string;
  state: AgentStateName;
  lastSeenMs: number;
  editCount: number;
  readonly locks: Map<string, Lock>;
}

interface Lock extends HeapNode {
  readonly path: string;
  readonly holder: Agent;
  expiresAtMs: number;
}

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
 */
export class Registry implements RegistryStore {
  private readonly clock: () => number;
  private lastNow = Number.MIN_SAFE_INTEGER;
  private settings: RegistryConfig;
  private nextId = 1;
  private readonly agents = new Map<number, Agent>();
  private readonly locks = new Map<string, Lock>();
  /** Active agents keyed by last sign of life. */
  private readonly silence = new IndexedHeap<Agent>((agent) => agent.lastSeenMs);
  /** Live locks keyed by expiry. */
  private readonly expiry = new IndexedHeap<Lock>((lock) => lock.expiresAtMs);
  private readonly versions = new VersionLog();

  constructor(options: RegistryOptions) {
    this.clock = options.now;
    this.settings = { ...DEFAULT_CONFIG };
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
    const id = this.nextId;
    if (id > Number.MAX_SAFE_INTEGER) {
      throw new DomainError("id_space_exhausted", "agent_register: no id left to assign (the next id would exceed 2^53-1)");
    }
    this.install(id, name, now);
    return id;
  }

  registerWithId(id: number, name: string): number {
    checkAgentId(id);
    checkName(name);
    const now = this.settle();
    this.install(id, name, now);
    return id;
  }

  heartbeat(id: number): void {
    checkAgentId(id);
    const now = this.settle();
    const agent = this.agents.get(id);
    if (agent === undefined) this.install(id, `agent-${id}`, now);
    else this.touch(agent, now);
  }

  unregister(id: number): boolean {
    checkAgentId(id);
    this.settle();
    const agent = this.agents.get(id);
    if (agent === undefined) return false;
    this.dropLocks(agent);
    this.silence.remove(agent);
    this.agents.delete(id);
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
    const existing = this.locks.get(key);
    if (existing !== undefined && existing.holder.id !== agentId) return { locked: false, holder: existing.holder.id };
    let agent = this.agents.get(agentId);
    if (agent === undefined) agent = this.install(agentId, `agent-${agentId}`, now);
    else this.touch(agent, now);
    if (existing !== undefined) {
      existing.expiresAtMs = expiresAtMs;
      this.expiry.update(existing);
    } else {
      const lock: Lock = { path: key, holder: agent, expiresAtMs, heapIndex: -1 };
      agent.locks.set(key, lock);
      this.locks.set(key, lock);
      this.expiry.push(lock);
    }
    return { locked: true, holder: agentId };
  }

  releaseLock(agentId: number, path: string): boolean {
    checkAgentId(agentId);
    const key = normalizePath(path);
    this.settle();
    const lock = this.locks.get(key);
    if (lock === undefined || lock.holder.id !== agentId) return false;
    this.removeLock(lock);
    return true;
  }

  lockHolder(path: string): number | null {
    const key = normalizePath(path);
    this.settle();
    return this.locks.get(key)?.holder.id ?? null;
  }

  listLocks(filter: { agentId?: number; prefix?: string } = {}): LockView[] {
    const agentId = filter.agentId === undefined ? undefined : checkAgentId(filter.agentId);
    const prefix = filter.prefix === undefined ? undefined : normalizePath(filter.prefix, "prefix");
    this.settle();
    let source: Iterable<Lock>;
    if (agentId === undefined) source = this.locks.values();
    else source = this.agents.get(agentId)?.locks.values() ?? [];
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
    const agent = this.agents.get(id);
    if (agent === undefined) return null;
    const locks = [...agent.locks.values()]
      .map((lock) => ({ path: lock.path, expires_at_ms: lock.expiresAtMs }))
      .sort((a, b) => compareStrings(a.path, b.path));
    return { id, name: agent.name, state: agent.state, last_seen_ms: agent.lastSeenMs, edit_count: agent.editCount, locks };
  }

  listAgents(): AgentSummary[] {
    this.settle();
    return [...this.agents.values()]
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
    const seq = this.versions.record({ path, agent_id: agentId, op, hash, size, timestamp_ms: now });
    if (agentId > 0) this.noteEditAt(agentId, now);
    return seq;
  }

  changesSince(seq: number, limit?: number): Change[] {
    checkInteger(seq, "seq", 0);
    if (limit !== undefined) checkInteger(limit, "limit", 1);
    this.settle();
    return this.versions.changesSince(seq, limit);
  }

  currentSeq(): number {
    this.settle();
    return this.versions.currentSeq;
  }

  snapshot(): Snapshot {
    const now = this.settle();
    const agents = [...this.agents.values()]
      .sort((a, b) => a.id - b.id)
      .map((agent) => {
        const locked_paths: Record<string, number> = {};
        for (const path of [...agent.locks.keys()].sort(compareStrings)) {
          locked_paths[path] = (agent.locks.get(path) as Lock).expiresAtMs;
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
      config: this.config(),
      agents: { next_id: this.nextId, agents },
      versions: { current_seq: this.versions.currentSeq, history: this.versions.history() },
    };
  }

  /**
   * Replace the whole state with a snapshot (ours, or the `agents` and
   * `versions` sections of a harn-hostlib one), then reap at the current
   * time. Everything is validated first; a bad snapshot changes nothing.
   */
  restore(snapshot: unknown): RestoreSummary {
    const decoded = decodeSnapshot(snapshot);
    this.settle();
    this.agents.clear();
    this.locks.clear();
    this.silence.clear();
    this.expiry.clear();
    if (decoded.config) this.settings = { ...decoded.config };
    this.nextId = decoded.nextId;
    for (const entry of decoded.agents) {
      const agent: Agent = {
        id: entry.id,
        name: entry.name,
        state: entry.state,
        lastSeenMs: entry.lastSeenMs,
        editCount: entry.editCount,
        locks: new Map(),
        heapIndex: -1,
      };
      this.agents.set(agent.id, agent);
      if (agent.state !== "active") continue;
      this.silence.push(agent);
      for (const [path, expiresAtMs] of entry.locks) {
        const lock: Lock = { path, holder: agent, expiresAtMs, heapIndex: -1 };
        agent.locks.set(path, lock);
        this.locks.set(path, lock);
        this.expiry.push(lock);
      }
    }
    this.versions.load(decoded.currentSeq, decoded.changes);
    this.settle();
    return { agents: this.agents.size, locks: this.locks.size, current_seq: this.versions.currentSeq };
  }

  /**
   * Bring time-driven state up to now, in deadline order: an agent silent
   * for more than agent_timeout_ms crashes and loses its locks; a lock whose
   * expiry has come is removed. Costs O(k log n) for k due deadlines.
   */
  private settle(crashed?: number[]): number {
    const now = this.now();
    const timeout = this.settings.agent_timeout_ms;
    for (;;) {
      const agent = this.silence.peek();
      const lock = this.expiry.peek();
      const agentDue = agent !== undefined && now - agent.lastSeenMs > timeout;
      const lockDue = lock !== undefined && lock.expiresAtMs <= now;
      if (agentDue && (!lockDue || agent.lastSeenMs + timeout < (lock as Lock).expiresAtMs)) {
        this.crash(agent);
        crashed?.push(agent.id);
      } else if (lockDue) {
        this.removeLock(lock);
      } else {
        return now;
      }
    }
  }

  private crash(agent: Agent): void {
    agent.state = "crashed";
    this.silence.remove(agent);
    this.dropLocks(agent);
  }

  /** Create or replace an agent record (the seed's register_with_id: a re-registered id starts afresh). */
  private install(id: number, name: string, now: number): Agent {
    const previous = this.agents.get(id);
    if (previous !== undefined) {
      this.dropLocks(previous);
      this.silence.remove(previous);
    }
    const agent: Agent = { id, name, state: "active", lastSeenMs: now, editCount: 0, locks: new Map(), heapIndex: -1 };
    this.agents.set(id, agent);
    this.silence.push(agent);
    if (id >= this.nextId) this.nextId = id + 1;
    return agent;
  }

  /** A sign of life: refresh last_seen and revive a crashed (or gone) agent. */
  private touch(agent: Agent, now: number): void {
    agent.lastSeenMs = now;
    agent.state = "active";
    this.silence.update(agent);
  }

  private noteEditAt(id: number, now: number): void {
    const agent = this.agents.get(id);
    if (agent === undefined) return;
    agent.editCount++;
    this.touch(agent, now);
  }

  private dropLocks(agent: Agent): void {
    for (const lock of agent.locks.values()) {
      this.locks.delete(lock.path);
      this.expiry.remove(lock);
    }
    agent.locks.clear();
  }

  private removeLock(lock: Lock): void {
    lock.holder.locks.delete(lock.path);
    this.locks.delete(lock.path);
    this.expiry.remove(lock);
  }
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

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { Change };
