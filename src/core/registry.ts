import type { RegistryConfig } from "../../protocol/common.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import { AGENT_IDS, EVENT_SEQS, FENCES, VERSION_SEQS, WAIT_IDS, checkRoom, editCount, exhaustion } from "./counters.js";
import { DomainError, InvalidInputError } from "./errors.js";
import { EventLog, type ReleaseReason } from "./events.js";
import { type LockMode, forEachAncestor, isWithin, pathsOverlap } from "./lock-table.js";
import { compareStrings, normalizePath } from "./paths.js";
import { type DecodedSnapshot, decodeSnapshot, encodeSnapshot } from "./snapshot-codec.js";
import { type Agent, type Lock, RegistryState, detachedAgent, locksByPath } from "./state.js";
import type {
  AcquireInput,
  AcquireResult,
  AgentDetail,
  AgentStateName,
  AgentSummary,
  Conflict,
  GrantedLock,
  LockInfo,
  LockView,
  RecordInput,
  RegistryStats,
  RegistryStore,
  RenewResult,
  RestoreSummary,
  TryLockResult,
} from "./store.js";
import { MAX_PATHS_PER_ACQUIRE, canonicalHash, checkAgentId, checkInteger, checkMode, checkName, checkOp, checkPaths } from "./validate.js";
import type { Change } from "./version-log.js";
import { type SavedWaits, type WaitOutcome, WaitQueue, type Waiter } from "./wait-queue.js";

/** The seed's defaults. */
export const DEFAULT_CONFIG: RegistryConfig = { default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 };

/** Limits that keep one runaway host from exhausting the others' memory; past them: quota_exceeded, nothing changed. */
export interface Limits {
  /** Agent records of any state; a new agent past it evicts the crashed record seen longest ago, and is refused only when every record is active. */
  maxAgents: number;
  maxLocksPerAgent: number;
}

export const DEFAULT_LIMITS: Limits = { maxAgents: 100_000, maxLocksPerAgent: 10_000 };

/** Settings of the process rather than of the registry's state. */
export interface ProcessOptions {
  crashLockDelayMs: number;
  limits: Limits;
}

/** The process settings that `options` ask for, defaults filled in. */
export function processOptionsOf(options: Pick<RegistryOptions, "crashLockDelayMs" | "limits">): ProcessOptions {
  return { crashLockDelayMs: options.crashLockDelayMs ?? 0, limits: { ...DEFAULT_LIMITS, ...options.limits } };
}

/** Options of a {@link Registry}. */
export interface RegistryOptions {
  /** The event log to number events in (a fresh one, from event_seq 1, by default). */
  events?: EventLog;
  /** Current time in ms; injected so tests and replays control it. */
  now: () => number;
  config?: Partial<RegistryConfig>;
  /** A path freed because its holder crashed stays unavailable to others this long (Chubby's lock-delay). */
  crashLockDelayMs?: number;
  limits?: Partial<Limits>;
}

type AcquireWaiter = Waiter<AcquireResult>;

/** The most events a waiter can still cause: its grants (one per path), their releases, and its agent crashing again. */
const EVENTS_PER_WAITER = 2 * MAX_PATHS_PER_ACQUIRE + 1;
/** The most events one call can add beyond that: an agent registered (and later crashing), or revived, and a waiter or a grant of every path. */
const EVENTS_PER_CALL = EVENTS_PER_WAITER + 2;

/**
 * The in-memory registry: agents, advisory locks and the version log.
 *
 * Deliberate changes from the seed (harn-hostlib 0.7.50 agents.rs):
 * - time-driven state is evaluated eagerly before every operation, in
 *   deadline order from three heaps (expired locks → removed, silent agents
 *   → crashed, waiters past their deadline → answered), so no result depends
 *   on whether someone called `reap`;
 * - a granted lock or a recorded edit revives a crashed agent;
 * - expired locks are removed, so counts and listings show live locks only;
 * - paths are normalised and ids range-checked (see paths.ts, validate.ts);
 * - lock lookups go through a path index, never a scan of all agents.
 * Beyond the seed: shared/exclusive and directory locks under one conflict
 * rule (lock-table.ts), atomic multi-path acquire, fencing tokens, FIFO
 * waiting without barging, and an event log.
 * Every method validates its input before touching anything.
 */
export class Registry implements RegistryStore {
  private readonly clock: () => number;
  private lastNow = Number.MIN_SAFE_INTEGER;
  /** Deadlines are applied up to this time; one found due later is applied no earlier (after a restore or a shorter timeout). */
  private settledAt = Number.MIN_SAFE_INTEGER;
  private settings: RegistryConfig = { ...DEFAULT_CONFIG };
  private crashLockDelayMs = 0;
  private limits: Limits = { ...DEFAULT_LIMITS };
  private state = new RegistryState();
  private readonly waiters = new WaitQueue<AcquireResult>();
  /** Something was freed since the waiters were last looked at. */
  private freed = false;
  /** Agents crashed since the last `reap`, reported by it. */
  private readonly crashedSinceReap = new Set<number>();
  /** Counters since this registry was made (restores keep them). */
  private readonly counted = { granted: 0, refused: 0, waitsStarted: 0, waitsGranted: 0, waitsTimedOut: 0, waitsCancelled: 0, waitsGone: 0, waitsOverQuota: 0 };
  private readonly releasedFor: Record<ReleaseReason, number> = { released: 0, expired: 0, forced: 0, crashed: 0, unregistered: 0, replaced: 0 };
  readonly events: EventLog;

  constructor(options: RegistryOptions) {
    this.clock = options.now;
    this.events = options.events ?? new EventLog();
    this.configure(processOptionsOf(options));
    if (options.config) this.setConfig(options.config);
  }

  /** Current time; never moves backwards even if the injected clock does. */
  now(): number {
    const t = this.clock();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /** The process's own settings (not part of a snapshot): lock-delay and limits. A journal records them, since a replay depends on them. */
  processOptions(): ProcessOptions {
    return { crashLockDelayMs: this.crashLockDelayMs, limits: { ...this.limits } };
  }

  /** Change the process's settings; they apply to later calls (existing locks and agents are kept). */
  configure(options: ProcessOptions): void {
    const delay = checkInteger(options.crashLockDelayMs, "crash_lock_delay_ms", 0);
    const limits = { maxAgents: checkInteger(options.limits.maxAgents, "max_agents", 1), maxLocksPerAgent: checkInteger(options.limits.maxLocksPerAgent, "max_locks_per_agent", 1) };
    this.crashLockDelayMs = delay;
    this.limits = limits;
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
    this.settle();
    this.settings = next;
    this.settle();
    return this.config();
  }

  register(name: string): number {
    checkName(name);
    this.checkEventRoom();
    const now = this.settle();
    const id = this.state.nextId;
    checkRoom(AGENT_IDS, id, 1);
    this.install(id, name, now);
    return this.finish(id);
  }

  registerWithId(id: number, name: string): number {
    checkAgentId(id);
    checkName(name);
    this.checkEventRoom();
    this.install(id, name, this.settle());
    return this.finish(id);
  }

  heartbeat(id: number): void {
    checkAgentId(id);
    this.checkEventRoom();
    const now = this.settle();
    const agent = this.state.agents.get(id);
    if (agent === undefined) this.install(id, `agent-${id}`, now);
    else this.state.touch(agent, now);
  }

  unregister(id: number): boolean {
    checkAgentId(id);
    this.checkEventRoom();
    const now = this.settle();
    const agent = this.state.agents.get(id);
    if (agent === undefined) return false;
    this.failWaitersOf(id, "unregistered");
    const released = this.state.removeAgent(agent);
    this.announceReleases(released, "unregistered", now);
    this.events.emit({ type: "agent/unregistered", agent_id: id, released: pathsOf(released) }, now);
    return this.finish(true);
  }

  noteEdit(id: number): void {
    checkAgentId(id);
    this.checkEventRoom();
    const now = this.settle();
    this.checkEditRoom(id);
    this.noteEditAt(id, now);
  }

  /**
   * The seed's try_lock: an exclusive single-path acquire that never waits.
   * When refused, `holder` is the agent whose lock blocks the path (see
   * {@link lockHolder}), or null when only an earlier queued request does.
   */
  tryLock(agentId: number, path: string, ttlMs?: number): TryLockResult {
    checkAgentId(agentId);
    const key = normalizePath(path);
    const ttl = ttlMs === undefined ? this.settings.default_lock_ttl_ms : checkInteger(ttlMs, "ttl_ms", 1);
    this.checkEventRoom();
    const now = this.settle();
    if (!Number.isSafeInteger(now + ttl)) throw new InvalidInputError("ttl_ms", "puts a deadline past 2^53-1 ms");
    const paths = [key];
    if (this.conflicts(agentId, paths, "exclusive", this.waiters.values(), true).length > 0) {
      this.counted.refused++;
      return { locked: false, holder: this.blockingHolder(agentId, key) };
    }
    this.checkGrant(agentId, paths);
    this.grantAll(agentId, paths, "exclusive", ttl, now);
    return this.finish({ locked: true, holder: agentId });
  }

  /**
   * Take every path or none. Re-acquiring a path you hold refreshes it (same
   * fence) and changes its mode (shared → exclusive when nobody else holds
   * it; exclusive → shared). With `waitMs > 0` and `onWaitDone`, a request
   * that cannot be granted now joins the FIFO queue and `{waiting: id}` is
   * returned; `onWaitDone` is called exactly once later.
   */
  acquire(input: AcquireInput, onWaitDone?: (outcome: WaitOutcome<AcquireResult>) => void): AcquireResult | { waiting: number } {
    const agentId = checkAgentId(input.agentId);
    const paths = checkPaths(input.paths);
    const mode = checkMode(input.mode);
    const ttl = input.ttlMs === undefined ? this.settings.default_lock_ttl_ms : checkInteger(input.ttlMs, "ttl_ms", 1);
    const waitMs = input.waitMs === undefined ? 0 : checkInteger(input.waitMs, "wait_ms", 0);
    this.checkEventRoom();
    const now = this.settle();
    if (!Number.isSafeInteger(now + ttl) || !Number.isSafeInteger(now + waitMs)) {
      throw new InvalidInputError(Number.isSafeInteger(now + ttl) ? "wait_ms" : "ttl_ms", "puts a deadline past 2^53-1 ms");
    }
    const conflicts = this.conflicts(agentId, paths, mode, this.waiters.values(), false);
    if (conflicts.length === 0) {
      this.checkGrant(agentId, paths);
      return this.finish(this.grantAll(agentId, paths, mode, ttl, now));
    }
    if (waitMs === 0 || onWaitDone === undefined) {
      this.counted.refused++;
      return { granted: false, locks: [], conflicts };
    }
    this.checkGrant(agentId, paths);
    checkRoom(WAIT_IDS, this.waiters.nextWaitId, 1);
    this.ensureAgent(agentId, now);
    const waiter = this.waiters.add({ agentId, paths, mode, ttlMs: ttl, deadline: now + waitMs, done: onWaitDone });
    this.counted.waitsStarted++;
    return { waiting: waiter.id };
  }

  /** Stop waiting; the waiter is told `cancelled`. False when it is no longer waiting. */
  cancelWait(waiterId: number): boolean {
    const waiter = this.waiters.get(waiterId);
    if (waiter === undefined) return false;
    this.waiters.remove(waiter);
    this.counted.waitsCancelled++;
    waiter.done({ kind: "cancelled" });
    this.freed = true;
    this.finish(undefined);
    return true;
  }

  releaseLock(agentId: number, path: string): boolean {
    checkAgentId(agentId);
    const key = normalizePath(path);
    const now = this.settle();
    const lock = this.state.agents.get(agentId)?.locks.get(key);
    if (lock === undefined) return false;
    this.release(lock, "released", now);
    return this.finish(true);
  }

  releaseAll(agentId: number): string[] {
    checkAgentId(agentId);
    const now = this.settle();
    const agent = this.state.agents.get(agentId);
    if (agent === undefined) return [];
    const released = this.state.dropLocks(agent);
    this.announceReleases(released, "released", now);
    return this.finish(pathsOf(released));
  }

  /** An operator's override: every lock exactly on `path` goes, whoever holds it; `note` travels with the events. */
  forceRelease(path: string, note?: string): { path: string; agent_id: number }[] {
    const key = normalizePath(path);
    if (note !== undefined && typeof note !== "string") throw new InvalidInputError("reason", "must be a string");
    const now = this.settle();
    const locks = [...this.state.table.holdersAt(key)];
    for (const lock of locks) this.release(lock, "forced", now, note);
    return this.finish(locks.map((lock) => ({ path: lock.path, agent_id: lock.holder.id })));
  }

  /** Extend the agent's locks (all of them when `paths` is omitted); expired or unknown ones are reported missing. */
  renew(agentId: number, paths?: string[], ttlMs?: number): RenewResult {
    checkAgentId(agentId);
    const wanted = paths === undefined ? undefined : checkPaths(paths);
    const ttl = ttlMs === undefined ? this.settings.default_lock_ttl_ms : checkInteger(ttlMs, "ttl_ms", 1);
    const now = this.settle();
    if (!Number.isSafeInteger(now + ttl)) throw new InvalidInputError("ttl_ms", "puts the expiry past 2^53-1 ms");
    const agent = this.state.agents.get(agentId);
    const targets = wanted ?? (agent === undefined ? [] : locksByPath(agent).map((lock) => lock.path));
    const renewed: GrantedLock[] = [];
    const missing: string[] = [];
    for (const path of targets) {
      const lock = agent?.locks.get(path);
      if (lock === undefined) {
        missing.push(path);
        continue;
      }
      this.state.setExpiry(lock, now + ttl);
      renewed.push(granted(lock));
    }
    if (agent !== undefined && renewed.length > 0) this.state.touch(agent, now);
    return { renewed, missing };
  }

  /** Agent whose lock blocks `path`: a lock on it or a covering directory (exclusive first, else the earliest shared grant), else one below it. */
  lockHolder(path: string): number | null {
    const key = normalizePath(path);
    this.settle();
    return this.blockingHolder(0, key);
  }

  lockInfo(path: string): LockInfo | null {
    const key = normalizePath(path);
    this.settle();
    const holders = this.state.table.holdersAt(key);
    const waiting = this.waiters.countFor(key);
    if (holders.length === 0 && waiting === 0) return null;
    return {
      path: key,
      mode: holders[0]?.mode ?? null,
      holders: holders.map((lock) => ({ agent_id: lock.holder.id, fence: lock.fence, expires_at_ms: lock.expiresAtMs })),
      waiters: waiting,
    };
  }

  /** The conflicts an acquire would meet now (queued requests included), changing nothing. */
  lockCheck(agentId: number | undefined, paths: string[], mode?: LockMode): Conflict[] {
    const id = agentId === undefined ? 0 : checkAgentId(agentId);
    const keys = checkPaths(paths);
    const lockMode = checkMode(mode);
    this.settle();
    return this.conflicts(id, keys, lockMode, this.waiters.values(), false);
  }

  /** Live locks sorted by path; `prefix` keeps a directory and what lies below it, by whole segments. */
  listLocks(filter: { agentId?: number; prefix?: string } = {}): LockView[] {
    const agentId = filter.agentId === undefined ? undefined : checkAgentId(filter.agentId);
    const prefix = filter.prefix === undefined ? undefined : normalizePath(filter.prefix, "prefix");
    this.settle();
    const source = agentId === undefined ? this.state.table.values() : (this.state.agents.get(agentId)?.locks.values() ?? []);
    const out: LockView[] = [];
    for (const lock of source) {
      if (this.state.isDelayed(lock) || (prefix !== undefined && !isWithin(lock.path, prefix))) continue;
      out.push({ path: lock.path, agent_id: lock.holder.id, expires_at_ms: lock.expiresAtMs });
    }
    return out.sort((a, b) => compareStrings(a.path, b.path) || a.agent_id - b.agent_id);
  }

  /** An agent's state now, or undefined when it has no record (cheaper than getAgent). */
  agentState(id: number): AgentStateName | undefined {
    checkAgentId(id);
    this.settle();
    return this.state.agents.get(id)?.state;
  }

  getAgent(id: number): AgentDetail | null {
    checkAgentId(id);
    this.settle();
    const agent = this.state.agents.get(id);
    return agent === undefined ? null : detail(agent);
  }

  agentDetails(): AgentDetail[] {
    this.settle();
    return this.state.agentsById().map(detail);
  }

  listAgents(): AgentSummary[] {
    this.settle();
    return this.state.agentsById().map((agent) => ({
      id: agent.id,
      name: agent.name,
      state: agent.state,
      last_seen_ms: agent.lastSeenMs,
      edit_count: agent.editCount,
      lock_count: agent.locks.size,
    }));
  }

  /** Evaluate time-driven state now; returns the agents crashed since the previous `reap` (every operation evaluates time, so crashes are found without it). */
  reap(): number[] {
    this.settle();
    const crashed = this.saveCrashedSinceReap();
    this.crashedSinceReap.clear();
    return crashed;
  }

  /** Evaluate time-driven state now (for a deadline timer or a clock move). */
  tick(): void {
    this.settle();
  }

  /** Crash these agents now, as a timeout would (their connection closed); returns those that were active. */
  crashAgents(ids: readonly number[]): number[] {
    const now = this.settle();
    const crashed: number[] = [];
    for (const id of ids) {
      const agent = this.state.agents.get(checkAgentId(id));
      if (agent?.state !== "active") continue;
      this.crash(agent, now);
      crashed.push(id);
    }
    return this.finish(crashed);
  }

  /** Counters since start and gauges now (cheap: nothing is scanned). */
  stats(): RegistryStats {
    this.settle();
    const c = this.counted;
    const r = this.releasedFor;
    return {
      locks: {
        held: this.state.table.size - this.state.delayed.size,
        granted: c.granted,
        refused: c.refused,
        released: r.released,
        expired: r.expired,
        force_released: r.forced,
        freed_by_crash: r.crashed,
        freed_by_unregister: r.unregistered + r.replaced,
      },
      waits: {
        waiting: this.waiters.size,
        started: c.waitsStarted,
        granted: c.waitsGranted,
        timed_out: c.waitsTimedOut,
        cancelled: c.waitsCancelled,
        ended_by_agent: c.waitsGone,
        over_quota: c.waitsOverQuota,
      },
      agents: { ...this.state.agentsInState },
    };
  }

  /** Locks left by crashed agents for the lock-delay (not part of a snapshot), by path: a journal carries them across a compaction. */
  saveDelayed(): SavedDelayedLock[] {
    return [...this.state.delayed]
      .map((lock) => ({ path: lock.path, agent_id: lock.holder.id, fence: lock.fence, until_ms: lock.expiresAtMs }))
      .sort((a, b) => compareStrings(a.path, b.path));
  }

  /** Put back locks from {@link saveDelayed} (after a restore of the snapshot taken with them). */
  loadDelayed(saved: readonly SavedDelayedLock[]): void {
    for (const left of saved) {
      const holder = this.state.agents.get(left.agent_id) ?? detachedAgent(left.agent_id);
      this.state.leaveDelayed(holder, left.path, left.fence, left.until_ms);
    }
  }

  /** The agents the next `reap` reports (not part of a snapshot): a journal carries them across a compaction. */
  saveCrashedSinceReap(): number[] {
    return [...this.crashedSinceReap].sort((a, b) => a - b);
  }

  /** Put back agents from {@link saveCrashedSinceReap} (after a restore of the snapshot taken with them). */
  loadCrashedSinceReap(ids: readonly number[]): void {
    for (const id of ids) this.crashedSinceReap.add(checkAgentId(id));
  }

  /** Pending waits without their callbacks, and the next wait id (a journal carries them across a compaction). */
  saveWaits(): SavedWaits {
    return this.waiters.save();
  }

  /** Put waits from {@link saveWaits} back into a registry that has none; `done(id)` gives each its callback. */
  loadWaits(saved: SavedWaits, done: (id: number) => (outcome: WaitOutcome<AcquireResult>) => void): void {
    if (this.waiters.size > 0) throw new Error("loadWaits: the registry already has waits");
    this.checkEventRoom(this.eventPotential() + saved.waits.length * EVENTS_PER_WAITER);
    this.waiters.load(saved, done);
  }

  /** When time-driven state next changes (a crash, an expiry, a waiter's deadline), or undefined. */
  nextDeadline(): number | undefined {
    const agent = this.state.silence.peek();
    const next = Math.min(
      agent === undefined ? Infinity : agent.silenceKey + this.settings.agent_timeout_ms + 1,
      this.state.expiry.peek()?.expiresAtMs ?? Infinity,
      this.waiters.nextDeadline()?.deadline ?? Infinity,
    );
    return next === Infinity ? undefined : next;
  }

  recordVersion(input: RecordInput): number {
    const agentId = checkInteger(input.agentId, "agent_id", 0);
    const path = normalizePath(input.path);
    const hash = input.hash === undefined ? "0" : canonicalHash(input.hash);
    const size = input.size === undefined ? 0 : checkInteger(input.size, "size", 0);
    const op = checkOp(input.op);
    const fence = input.fence === undefined ? undefined : checkInteger(input.fence, "fence", 1);
    this.checkEventRoom();
    const now = this.settle();
    if (fence !== undefined) {
      const problem = this.fenceProblem(agentId, path, fence);
      if (problem !== undefined) throw new DomainError("stale_fence", `fence ${fence} ${problem}; nothing was recorded`);
    }
    checkRoom(VERSION_SEQS, this.state.versions.currentSeq + 1, 1);
    if (agentId > 0) this.checkEditRoom(agentId);
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
   * `reap: false` the snapshot's active agents count as seen now instead.
   * Waiters are not part of a snapshot: they are told `agent_gone`
   * ("restored"). Subscribers are told `registry/restored` before the reap's
   * events. A bad snapshot throws before anything is replaced.
   */
  restore(snapshot: unknown, options: RestoreOptions = {}): RestoreSummary {
    return this.replaceState(decodeSnapshot(snapshot, this.state.nextFence), options);
  }

  /**
   * The first half of {@link restore}, which changes nothing: validate and
   * decode `input` (throwing as restore would) and give it as a format-2
   * snapshot with every lock's fence and the config it leaves in force
   * (format 1 and harn-hostlib locks get their fresh fences now; a snapshot
   * without config keeps the current one). Restoring that snapshot here and
   * now builds exactly the state restoring `input` would, so a journal
   * keeps it instead of the input (which may hold what JSON cannot carry:
   * bigints, deep nesting, in sections restore ignores).
   */
  prepareRestore(input: unknown): PreparedRestore {
    const decoded = decodeSnapshot(input, this.state.nextFence);
    return { decoded, snapshot: encodeSnapshot(decoded.state, decoded.config ?? this.settings, this.now()) };
  }

  /** The second half of {@link restore}: put a prepared snapshot in place (once). */
  applyRestore(prepared: PreparedRestore, options: RestoreOptions = {}): RestoreSummary {
    return this.replaceState(prepared.decoded, options);
  }

  private replaceState(decoded: DecodedSnapshot, options: RestoreOptions): RestoreSummary {
    this.checkEventRoom(this.eventPotential(decoded.state, 0) + 1);
    const now = this.now();
    for (const waiter of [...this.waiters.values()]) {
      this.waiters.remove(waiter);
      waiter.done({ kind: "agent_gone", why: "restored" });
    }
    this.state = decoded.state;
    this.settledAt = now;
    const { agents, table, versions, nextId, nextFence } = this.state;
    this.events.emit(
      { type: "registry/restored", agents: agents.size, locks: table.size, current_seq: versions.currentSeq, next_id: nextId, next_fence: nextFence },
      now,
    );
    this.crashedSinceReap.clear();
    if (decoded.config) this.settings = { ...decoded.config };
    if (options.reap === false) {
      for (const agent of this.state.agents.values()) if (agent.state === "active" && agent.lastSeenMs < now) agent.lastSeenMs = now;
    }
    this.settle();
    return { agents: this.state.agents.size, locks: this.state.table.size, current_seq: this.state.versions.currentSeq };
  }

  /**
   * Bring time-driven state up to now, as if time had passed through every
   * deadline in order: each one is applied at its own instant (an agent
   * crashes at the first millisecond it is over its timeout, a lock expires
   * at its expiry, a waiter times out at its deadline), and the waiters it
   * frees are granted at that instant, before any later deadline is looked
   * at. So one jump of the clock ends in the same state as any finer path
   * to the same time. A deadline that was already past when it appeared (a
   * restored state, a shorter agent timeout) is applied at that moment,
   * never before it. On a tie: lock expiry, then agent timeout, then a
   * waiter's deadline, so that a waiter is granted rather than timed out
   * when its conflict ends at its deadline.
   */
  private settle(): number {
    const now = this.now();
    const timeout = this.settings.agent_timeout_ms;
    const state = this.state;
    for (;;) {
      const agent = state.nextSilent();
      const lock = state.expiry.peek();
      const waiter = this.waiters.nextDeadline();
      const lockAt = lock !== undefined && lock.expiresAtMs <= now ? lock.expiresAtMs : Infinity;
      const crashAt = agent === undefined ? Infinity : crashInstant(agent, timeout);
      const agentAt = crashAt <= now ? crashAt : Infinity;
      const waiterAt = waiter !== undefined && waiter.deadline <= now ? waiter.deadline : Infinity;
      if (lockAt === Infinity && agentAt === Infinity && waiterAt === Infinity) break;
      const at = Math.max(Math.min(lockAt, agentAt, waiterAt), this.settledAt);
      if (lockAt <= agentAt && lockAt <= waiterAt) {
        this.release(lock as Lock, "expired", at);
      } else if (agentAt <= waiterAt) {
        this.crash(agent as Agent, at);
      } else {
        this.timeOut(waiter as AcquireWaiter);
      }
      if (this.freed) this.pump(at);
    }
    this.settledAt = now;
    return now;
  }

  /** After a state change: grant whatever waiters can now go, then return `value`. */
  private finish<T>(value: T): T {
    if (this.freed) this.pump(this.now());
    return value;
  }

  /**
   * Grant waiters, oldest first, whose conflicts are gone and who conflict
   * with no older waiter still waiting. A grant can free something itself (a
   * queued downgrade to shared), so passes repeat until one frees nothing.
   */
  private pump(now: number): void {
    while (this.freed) {
      this.freed = false;
      if (this.waiters.size === 0) return;
      const ahead: AcquireWaiter[] = [];
      for (const waiter of [...this.waiters.values()]) {
        if (this.conflicts(waiter.agentId, waiter.paths, waiter.mode, ahead, true).length > 0) {
          ahead.push(waiter);
          continue;
        }
        this.waiters.remove(waiter);
        const fresh = this.newLockCount(waiter.agentId, waiter.paths);
        const overQuota = this.lockQuotaProblem(waiter.agentId, fresh);
        const exhausted = overQuota === undefined ? exhaustion(FENCES, this.state.nextFence, fresh) : undefined;
        if (overQuota !== undefined) {
          this.counted.waitsOverQuota++;
          waiter.done({ kind: "quota_exceeded", why: overQuota });
        } else if (exhausted !== undefined) {
          this.counted.refused++;
          waiter.done({ kind: "id_space_exhausted", why: exhausted });
        } else {
          this.counted.waitsGranted++;
          waiter.done({ kind: "granted", result: this.grantAll(waiter.agentId, waiter.paths, waiter.mode, waiter.ttlMs, now) });
        }
      }
    }
  }

  private timeOut(waiter: AcquireWaiter): void {
    this.waiters.remove(waiter);
    const ahead = [...this.waiters.values()].filter((other) => other.id < waiter.id);
    const conflicts = this.conflicts(waiter.agentId, waiter.paths, waiter.mode, ahead, false);
    this.counted.waitsTimedOut++;
    this.counted.refused++;
    waiter.done({ kind: "timed_out", result: { granted: false, locks: [], conflicts } });
    this.freed = true;
  }

  private grantAll(agentId: number, paths: readonly string[], mode: LockMode, ttl: number, now: number): AcquireResult {
    const agent = this.ensureAgent(agentId, now);
    this.state.touch(agent, now);
    const locks: GrantedLock[] = [];
    for (const path of paths) {
      let lock = agent.locks.get(path);
      if (lock === undefined) {
        lock = this.state.grant(agent, path, mode, now + ttl);
        this.counted.granted++;
      } else {
        this.state.setExpiry(lock, now + ttl);
        if (lock.mode === mode) {
          locks.push(granted(lock));
          continue;
        }
        if (mode === "shared") this.freed = true;
        this.state.table.setMode(lock, mode);
      }
      locks.push(granted(lock));
      this.events.granted(agentId, path, mode, lock.fence, lock.expiresAtMs, now);
    }
    return { granted: true, locks, conflicts: [] };
  }

  /**
   * What blocks `holderId` from taking `paths` in `mode`: locks on each path
   * or a covering directory, one lock below it, and requests queued `ahead`
   * (no barging), each listed once. With `firstOnly`, stops at the first.
   */
  private conflicts(holderId: number, paths: readonly string[], mode: LockMode, ahead: Iterable<AcquireWaiter>, firstOnly: boolean): Conflict[] {
    const out: Conflict[] = [];
    const listed = firstOnly ? undefined : new Set<Lock>();
    const add = (lock: Lock) => {
      if (listed?.has(lock)) return;
      out.push(conflict(lock));
      listed?.add(lock);
    };
    const table = this.state.table;
    for (const path of paths) {
      for (const lock of table.coveringConflicts(holderId, path, mode)) {
        add(lock);
        if (firstOnly) return out;
      }
      const below = table.conflictBelow(holderId, path, mode);
      if (below !== undefined) {
        add(this.lockBelow(below.holderId, path, below.mode));
        if (firstOnly) return out;
      }
    }
    for (const waiter of ahead) {
      if (waiter.agentId === holderId || (mode === "shared" && waiter.mode === "shared")) continue;
      const path = waiter.paths.find((wanted) => paths.some((mine) => pathsOverlap(mine, wanted)));
      if (path === undefined) continue;
      out.push({ path, holder: waiter.agentId, mode: waiter.mode, expires_at_ms: null, queued: true });
      if (firstOnly) return out;
    }
    return out;
  }

  /** A lock of `holderId` strictly below `dir` in `mode` (the table's counts say one exists). */
  private lockBelow(holderId: number, dir: string, mode: LockMode): Lock {
    const below = (lock: Lock) => lock.mode === mode && lock.path !== dir && isWithin(lock.path, dir);
    const agent = this.state.agents.get(holderId);
    for (const lock of agent?.locks.values() ?? []) if (below(lock)) return lock;
    for (const lock of this.state.delayed) if (lock.holder.id === holderId && below(lock)) return lock;
    throw new Error(`lock table counts a lock of agent ${holderId} below ${dir} that no index holds`);
  }

  private blockingHolder(holderId: number, path: string): number | null {
    const covering = this.state.table.coveringConflicts(holderId, path, "exclusive");
    const exclusive = covering.find((lock) => lock.mode === "exclusive");
    if (exclusive !== undefined) return exclusive.holder.id;
    if (covering.length > 0) return covering.reduce((a, b) => (b.fence < a.fence ? b : a)).holder.id;
    return this.state.table.conflictBelow(holderId, path, "exclusive")?.holderId ?? null;
  }

  /**
   * Why `fence` does not authorise `agentId` to write `path`, or undefined
   * when it does: it must be the fence of a live exclusive lock of the agent
   * on the path or a directory covering it (a shared lock lets others hold
   * the same path, so it authorises no write).
   */
  private fenceProblem(agentId: number, path: string, fence: number): string | undefined {
    const locks = this.state.agents.get(agentId)?.locks;
    let lock = locks?.get(path);
    if (lock?.fence !== fence) {
      lock = undefined;
      forEachAncestor(path, (dir) => {
        const held = locks?.get(dir);
        if (held?.fence === fence) lock = held;
      });
    }
    const where = `of agent ${agentId} on ${JSON.stringify(path)} or a directory covering it`;
    if (lock === undefined) return `is not a live lock ${where}`;
    if (lock.mode !== "exclusive") {
      return `is a shared lock ${where}; a fence authorises a write only under an exclusive lock (others may share ${JSON.stringify(lock.path)})`;
    }
    return undefined;
  }

  private release(lock: Lock, reason: ReleaseReason, now: number, note?: string): void {
    const delayed = this.state.isDelayed(lock);
    this.state.removeLock(lock);
    this.freed = true;
    if (!delayed) this.announceReleases([lock], reason, now, note);
  }

  private crash(agent: Agent, now: number): void {
    this.failWaitersOf(agent.id, "crashed");
    this.crashedSinceReap.add(agent.id);
    const released = this.state.crash(agent, this.crashLockDelayMs > 0 ? now + this.crashLockDelayMs : undefined);
    this.announceReleases(released, "crashed", now);
    this.events.emit({ type: "agent/crashed", agent_id: agent.id, released: pathsOf(released) }, now);
  }

  /** Create or replace an agent record (a re-registered id starts afresh: its locks go, reason "replaced"). */
  private install(id: number, name: string, now: number): Agent {
    const previous = this.state.agents.get(id);
    if (previous === undefined) {
      this.checkAgentQuota(id);
      if (this.state.agents.size >= this.limits.maxAgents) this.state.removeAgent(this.state.retired.peek() as Agent);
    } else {
      this.failWaitersOf(id, "replaced");
      this.announceReleases(this.state.removeAgent(previous), "replaced", now);
    }
    const agent = this.state.addAgent(id, name, "active", now, 0);
    this.events.emit({ type: "agent/registered", agent_id: id, name }, now);
    return agent;
  }

  /** Throw, before anything changes, when `agentId` taking `paths` would pass a limit (quota_exceeded) or need fences past 2^53-1 (id_space_exhausted). */
  private checkGrant(agentId: number, paths: readonly string[]): void {
    if (!this.state.agents.has(agentId)) this.checkAgentQuota(agentId);
    const fresh = this.newLockCount(agentId, paths);
    const problem = this.lockQuotaProblem(agentId, fresh);
    if (problem !== undefined) throw new DomainError("quota_exceeded", problem);
    checkRoom(FENCES, this.state.nextFence, fresh);
  }

  /**
   * Throw id_space_exhausted unless the event counter has room for `needed`
   * events: by default, for every event the state can still emit without
   * another call, plus the most one call can add. Calls that can add events
   * (grants, waits, registrations, revivals) check first; then time-driven
   * changes, reads, releases and cancels, which only use up what is
   * counted, never run out of event numbers.
   */
  private checkEventRoom(needed = this.eventPotential() + EVENTS_PER_CALL): void {
    const room = this.events.room;
    if (room < needed) {
      throw new DomainError("id_space_exhausted", `${EVENT_SEQS} is exhausted: ${room} numbers are left and this call could need ${needed}; nothing was changed`);
    }
  }

  /** The events `state` can still emit with no further call: a release per live lock, a crash per active agent, and each waiter's. */
  private eventPotential(state = this.state, waiters = this.waiters.size): number {
    return state.table.size - state.delayed.size + state.agentsInState.active + waiters * EVENTS_PER_WAITER;
  }

  /** Throw id_space_exhausted when the agent's edit_count is at 2^53-1. */
  private checkEditRoom(agentId: number): void {
    const agent = this.state.agents.get(agentId);
    if (agent !== undefined) checkRoom(editCount(agentId), agent.editCount + 1, 1);
  }

  /** Throw quota_exceeded when a new agent `id` would pass --max-agents and no crashed record is left to evict for it (see install). */
  private checkAgentQuota(id: number): void {
    const count = this.state.agents.size;
    if (count >= this.limits.maxAgents && this.state.retired.size === 0) throw new DomainError("quota_exceeded", `agent ${id} would be agent number ${count + 1}, past --max-agents ${this.limits.maxAgents}`);
  }

  /** Why `agentId` taking `fresh` new locks would pass --max-locks-per-agent, or undefined. */
  private lockQuotaProblem(agentId: number, fresh: number): string | undefined {
    const count = (this.state.agents.get(agentId)?.locks.size ?? 0) + fresh;
    if (count <= this.limits.maxLocksPerAgent) return undefined;
    return `agent ${agentId} would hold ${count} locks, past --max-locks-per-agent ${this.limits.maxLocksPerAgent}`;
  }

  /** How many of `paths` the agent does not hold yet: each would take a new fence. */
  private newLockCount(agentId: number, paths: readonly string[]): number {
    const held = this.state.agents.get(agentId)?.locks;
    if (held === undefined) return paths.length;
    let count = 0;
    for (const path of paths) if (!held.has(path)) count++;
    return count;
  }

  private ensureAgent(id: number, now: number): Agent {
    return this.state.agents.get(id) ?? this.install(id, `agent-${id}`, now);
  }

  private failWaitersOf(agentId: number, why: "crashed" | "unregistered" | "replaced"): void {
    for (const waiter of [...this.waiters.values()]) {
      if (waiter.agentId !== agentId) continue;
      this.waiters.remove(waiter);
      this.counted.waitsGone++;
      waiter.done({ kind: "agent_gone", why });
      this.freed = true;
    }
  }

  private announceReleases(locks: Lock[], reason: ReleaseReason, now: number, note?: string): void {
    if (locks.length > 0) this.freed = true;
    this.releasedFor[reason] += locks.length;
    for (const lock of locks) this.events.released(lock.holder.id, lock.path, lock.mode, lock.fence, reason, note, now);
  }

  private noteEditAt(id: number, now: number): void {
    const agent = this.state.agents.get(id);
    if (agent === undefined) return;
    agent.editCount++;
    this.state.touch(agent, now);
  }
}

/** The first millisecond at which `agent` is over its timeout: silent for more than `timeout` ms. */
function crashInstant(agent: Agent, timeout: number): number {
  return agent.lastSeenMs + timeout + 1;
}

/** Options of a restore. */
export interface RestoreOptions {
  /** False: the snapshot's active agents count as seen now instead of being reaped. */
  reap?: boolean;
}

/** A restore validated and decoded by {@link Registry.prepareRestore}, not yet applied. */
export interface PreparedRestore {
  /** What the restore puts in place, as a format-2 snapshot (fences and config included). */
  readonly snapshot: Snapshot;
  readonly decoded: DecodedSnapshot;
}

/** A lock left by a crashed agent, as a journal keeps it. */
export interface SavedDelayedLock {
  path: string;
  agent_id: number;
  fence: number;
  until_ms: number;
}

function granted(lock: Lock): GrantedLock {
  return { path: lock.path, mode: lock.mode, fence: lock.fence, expires_at_ms: lock.expiresAtMs };
}

function conflict(lock: Lock): Conflict {
  return { path: lock.path, holder: lock.holder.id, mode: lock.mode, expires_at_ms: lock.expiresAtMs, queued: false };
}

/** Paths of locks that `dropLocks` returned (already sorted). */
function pathsOf(locks: Lock[]): string[] {
  return locks.map((lock) => lock.path);
}

function detail(agent: Agent): AgentDetail {
  const locks = locksByPath(agent).map((lock) => ({ path: lock.path, expires_at_ms: lock.expiresAtMs }));
  return { id: agent.id, name: agent.name, state: agent.state, last_seen_ms: agent.lastSeenMs, edit_count: agent.editCount, locks };
}
