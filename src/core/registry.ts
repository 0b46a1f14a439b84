import type { RegistryConfig } from "../../protocol/common.js";
import type { Snapshot } from "../../protocol/snapshot.js";
import { AGENT_IDS, EVENT_SEQS, VERSION_SEQS, checkRoom, editCount } from "./counters.js";
import { DomainError, InvalidInputError } from "./errors.js";
import { EventLog } from "./events.js";
import type { LockMode } from "./lock-table.js";
import { EVENTS_PER_WAITER, type Limits, Locking, type ProcessOptions, RULES, processOptionsOf } from "./locking.js";
import { compareStrings, isWithin, normalizePath } from "./paths.js";
import {
  type Agent,
  type Lock,
  RegistryData,
  agentFields,
  defaultAgentName,
  detachedAgent,
  locksByPath,
} from "./registry-data.js";
import { type DecodedSnapshot, decodeSnapshot, encodeSnapshot } from "./snapshot-codec.js";
import type {
  AcquireInput,
  AcquireResult,
  AgentDetail,
  AgentStateName,
  AgentSummary,
  Conflict,
  LockInfo,
  LockView,
  RecordInput,
  RegistryStats,
  RegistryStore,
  RenewResult,
  RestoreSummary,
  TryLockResult,
} from "./store.js";
import {
  canonicalHash,
  checkAgentId,
  checkDeadline,
  checkInteger,
  checkMode,
  checkName,
  checkOp,
  checkPaths,
} from "./validate.js";
import type { Change } from "./version-log.js";
import type { SavedWaits, WaitOutcome } from "./wait-queue.js";

export { DEFAULT_LIMITS, type Limits, type ProcessOptions, RULES, processOptionsOf } from "./locking.js";

/** The seed's defaults. */
export const DEFAULT_CONFIG: RegistryConfig = { default_lock_ttl_ms: 30_000, agent_timeout_ms: 45_000 };

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

/**
 * The most events one call can add beyond a waiter's: an agent registered (and later crashing), or revived, and a
 * waiter or a grant of every path.
 */
const EVENTS_PER_CALL = EVENTS_PER_WAITER + 2;

/**
 * The in-memory registry: agents, advisory locks and the version log. Each
 * operation validates its input, settles time (see {@link settle}) and
 * makes its change: the lock policy is in locking.ts, the data and its
 * indexes in registry-data.ts.
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
 * rule (conflict-rule.ts), atomic multi-path acquire, fencing tokens, FIFO
 * waiting without barging, and an event log.
 * Every method validates its input before touching anything.
 */
export class Registry implements RegistryStore {
  private readonly clock: () => number;
  private lastNow = Number.MIN_SAFE_INTEGER;
  /**
   * Deadlines are applied up to this time; one found due later is applied no earlier (after a restore or a shorter
   * timeout).
   */
  private settledAt = Number.MIN_SAFE_INTEGER;
  private settings: RegistryConfig = { ...DEFAULT_CONFIG };
  private data = new RegistryData();
  private readonly locking: Locking;
  /** Agents crashed since the last `reap`, reported by it. */
  private readonly crashedSinceReap = new Set<number>();
  readonly events: EventLog;

  constructor(options: RegistryOptions) {
    this.clock = options.now;
    this.events = options.events ?? new EventLog();
    this.locking = new Locking(
      { data: () => this.data, ensureAgent: (id, now) => this.ensureAgent(id, now) },
      this.events,
    );
    this.setProcessOptions(processOptionsOf(options));
    if (options.config) this.setConfig(options.config);
  }

  /** Current time; never moves backwards even if the injected clock does. */
  now(): number {
    const t = this.clock();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /**
   * The process's own settings (not part of a snapshot): lock-delay, limits and rules. A journal records them, since a
   * replay depends on them.
   */
  processOptions(): ProcessOptions {
    return {
      crashLockDelayMs: this.locking.crashLockDelayMs,
      limits: { ...this.locking.limits },
      rules: this.locking.rules,
    };
  }

  /**
   * Change the process's settings (lock-delay, limits and rules, not the
   * registry's config: see {@link setConfig}); they apply to later calls
   * (existing locks and agents are kept). Without `rules`, the rules of the
   * versions that did not number them (1): what their journals replay under.
   */
  setProcessOptions(options: ProcessOptions): void {
    const delay = checkInteger(options.crashLockDelayMs, "crash_lock_delay_ms", 0);
    const limits = {
      maxAgents: checkInteger(options.limits.maxAgents, "max_agents", 1),
      maxLocksPerAgent: checkInteger(options.limits.maxLocksPerAgent, "max_locks_per_agent", 1),
    };
    const rules = options.rules === undefined ? 1 : checkInteger(options.rules, "rules", 1);
    if (rules > RULES)
      throw new InvalidInputError("rules", `must be at most ${RULES} (the rules of this version), got ${rules}`);
    this.locking.crashLockDelayMs = delay;
    this.locking.limits = limits;
    this.locking.rules = rules;
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
    const id = this.data.nextId;
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
    const agent = this.data.agents.get(id);
    if (agent === undefined) this.install(id, defaultAgentName(id), now);
    else this.data.touch(agent, now);
  }

  unregister(id: number): boolean {
    checkAgentId(id);
    this.checkEventRoom();
    const now = this.settle();
    const agent = this.data.agents.get(id);
    if (agent === undefined) {
      // Its waits, if any: an agent that only waits has no record until it is granted.
      this.locking.failWaitersOf(id, "unregistered");
      return this.finish(false);
    }
    const released = this.locking.agentLeaves(agent, "unregistered", now);
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
    const ttl = this.ttlOf(ttlMs);
    this.checkEventRoom();
    const now = this.settle();
    checkDeadline(now, ttl, "ttl_ms", "a deadline");
    const result = this.locking.tryLock(agentId, key, ttl, now);
    return result.locked ? this.finish(result) : result;
  }

  /**
   * Take every path or none. Re-acquiring a path you hold refreshes it (same
   * fence) and changes its mode (shared → exclusive when nobody else holds
   * it; exclusive → shared). With `waitMs > 0` and `onWaitDone`, a request
   * that cannot be granted now joins the FIFO queue and `{waiting: id}` is
   * returned; `onWaitDone` is called exactly once later.
   */
  acquire(
    input: AcquireInput,
    onWaitDone?: (outcome: WaitOutcome<AcquireResult>) => void,
  ): AcquireResult | { waiting: number } {
    const agentId = checkAgentId(input.agentId);
    const paths = checkPaths(input.paths);
    const mode = checkMode(input.mode);
    const ttlMs = this.ttlOf(input.ttlMs);
    const waitMs = input.waitMs === undefined ? 0 : checkInteger(input.waitMs, "wait_ms", 0);
    this.checkEventRoom();
    const now = this.settle();
    checkDeadline(now, ttlMs, "ttl_ms", "a deadline");
    checkDeadline(now, waitMs, "wait_ms", "a deadline");
    const result = this.locking.acquire({ agentId, paths, mode, ttlMs, waitMs }, now, onWaitDone);
    return "granted" in result && result.granted ? this.finish(result) : result;
  }

  /** Stop waiting; the waiter is told `cancelled`. False when it is no longer waiting. */
  cancelWait(waiterId: number): boolean {
    if (!this.locking.cancel(waiterId)) return false;
    this.finish(undefined);
    return true;
  }

  releaseLock(agentId: number, path: string): boolean {
    checkAgentId(agentId);
    const key = normalizePath(path);
    const now = this.settle();
    const lock = this.data.agents.get(agentId)?.locks.get(key);
    if (lock === undefined) return false;
    this.locking.release(lock, "released", now);
    return this.finish(true);
  }

  releaseAll(agentId: number): string[] {
    checkAgentId(agentId);
    const now = this.settle();
    const agent = this.data.agents.get(agentId);
    if (agent === undefined) return [];
    return this.finish(pathsOf(this.locking.releaseAll(agent, now)));
  }

  /** An operator's override: every lock exactly on `path` goes, whoever holds it; `note` travels with the events. */
  forceRelease(path: string, note?: string): { path: string; agent_id: number }[] {
    const key = normalizePath(path);
    if (note !== undefined && typeof note !== "string") throw new InvalidInputError("reason", "must be a string");
    const now = this.settle();
    const locks = this.locking.forceRelease(key, note, now);
    return this.finish(locks.map((lock) => ({ path: lock.path, agent_id: lock.holder.id })));
  }

  /**
   * Extend the agent's locks (all of them when `paths` is omitted) to expire no earlier than `ttlMs` from now, never
   * shortening one; expired or unknown ones are reported missing.
   */
  renew(agentId: number, paths?: string[], ttlMs?: number): RenewResult {
    checkAgentId(agentId);
    const wanted = paths === undefined ? undefined : checkPaths(paths);
    const ttl = this.ttlOf(ttlMs);
    const now = this.settle();
    checkDeadline(now, ttl, "ttl_ms", "the expiry");
    return this.locking.renew(agentId, wanted, ttl, now);
  }

  /**
   * Agent whose lock blocks `path`: a lock on it or a covering directory (exclusive first, else the earliest shared
   * grant), else one below it.
   */
  lockHolder(path: string): number | null {
    const key = normalizePath(path);
    this.settle();
    return this.locking.blockingHolder(0, key);
  }

  lockInfo(path: string): LockInfo | null {
    const key = normalizePath(path);
    this.settle();
    return this.locking.info(key);
  }

  /** The conflicts an acquire would meet now (queued requests included), changing nothing. */
  lockCheck(agentId: number | undefined, paths: string[], mode?: LockMode): Conflict[] {
    const id = agentId === undefined ? 0 : checkAgentId(agentId);
    const keys = checkPaths(paths);
    const lockMode = checkMode(mode);
    this.settle();
    return this.locking.check(id, keys, lockMode);
  }

  /** Live locks sorted by path; `prefix` keeps a directory and what lies below it, by whole segments. */
  listLocks(filter: { agentId?: number; prefix?: string } = {}): LockView[] {
    const agentId = filter.agentId === undefined ? undefined : checkAgentId(filter.agentId);
    const prefix = filter.prefix === undefined ? undefined : normalizePath(filter.prefix, "prefix");
    this.settle();
    const source =
      agentId === undefined ? this.data.table.values() : (this.data.agents.get(agentId)?.locks.values() ?? []);
    const out: LockView[] = [];
    for (const lock of source) {
      if (this.data.isDelayed(lock) || (prefix !== undefined && !isWithin(lock.path, prefix))) continue;
      out.push({ path: lock.path, agent_id: lock.holder.id, expires_at_ms: lock.expiresAtMs });
    }
    return out.sort((a, b) => compareStrings(a.path, b.path) || a.agent_id - b.agent_id);
  }

  /** An agent's state now, or undefined when it has no record (cheaper than getAgent). */
  agentState(id: number): AgentStateName | undefined {
    checkAgentId(id);
    this.settle();
    return this.data.agents.get(id)?.state;
  }

  getAgent(id: number): AgentDetail | null {
    checkAgentId(id);
    this.settle();
    const agent = this.data.agents.get(id);
    return agent === undefined ? null : detail(agent);
  }

  agentDetails(): AgentDetail[] {
    this.settle();
    return this.data.agentsById().map(detail);
  }

  listAgents(): AgentSummary[] {
    this.settle();
    return this.data.agentsById().map((agent) => ({ ...agentFields(agent), lock_count: agent.locks.size }));
  }

  /**
   * Evaluate time-driven state now; returns the agents crashed since the previous `reap` (every operation evaluates
   * time, so crashes are found without it).
   */
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
    checkAgentIds(ids);
    const now = this.settle();
    const crashed: number[] = [];
    for (const id of ids) {
      const agent = this.data.agents.get(id);
      if (agent?.state !== "active") continue;
      this.crash(agent, now);
      crashed.push(id);
    }
    return this.finish(crashed);
  }

  /** Counters since start and gauges now (cheap: nothing is scanned). */
  stats(): RegistryStats {
    this.settle();
    return { ...this.locking.stats(), agents: { ...this.data.agentsInState } };
  }

  /**
   * Locks left by crashed agents for the lock-delay (not part of a snapshot), by path: a journal carries them across a
   * compaction.
   */
  saveDelayed(): SavedDelayedLock[] {
    return [...this.data.delayed]
      .map((lock) => ({ path: lock.path, agent_id: lock.holder.id, fence: lock.fence, until_ms: lock.expiresAtMs }))
      .sort((a, b) => compareStrings(a.path, b.path));
  }

  /** Put back locks from {@link saveDelayed} (after a restore of the snapshot taken with them). */
  loadDelayed(saved: readonly SavedDelayedLock[]): void {
    for (const left of saved) {
      const holder = this.data.agents.get(left.agent_id) ?? detachedAgent(left.agent_id);
      this.data.leaveDelayed(holder, left.path, left.fence, left.until_ms);
    }
  }

  /** The agents the next `reap` reports (not part of a snapshot): a journal carries them across a compaction. */
  saveCrashedSinceReap(): number[] {
    return [...this.crashedSinceReap].sort((a, b) => a - b);
  }

  /** Put back agents from {@link saveCrashedSinceReap} (after a restore of the snapshot taken with them). */
  loadCrashedSinceReap(ids: readonly number[]): void {
    checkAgentIds(ids);
    for (const id of ids) this.crashedSinceReap.add(id);
  }

  /** Pending waits without their callbacks, and the next wait id (a journal carries them across a compaction). */
  saveWaits(): SavedWaits {
    return this.locking.waiters.save();
  }

  /** Put waits from {@link saveWaits} back into a registry that has none; `done(id)` gives each its callback. */
  loadWaits(saved: SavedWaits, done: (id: number) => (outcome: WaitOutcome<AcquireResult>) => void): void {
    if (this.locking.waiters.size > 0) throw new Error("loadWaits: the registry already has waits");
    this.checkEventRoom(this.eventPotential() + saved.waits.length * EVENTS_PER_WAITER);
    this.locking.waiters.load(saved, done);
  }

  /** When time-driven state next changes (a crash, an expiry, a waiter's deadline), or undefined. */
  nextDeadline(): number | undefined {
    const agent = this.data.silence.peek();
    const next = Math.min(
      agent === undefined ? Infinity : crashInstant(agent.silenceKey, this.settings.agent_timeout_ms),
      this.data.expiry.peek()?.expiresAtMs ?? Infinity,
      this.locking.waiters.nextDeadline()?.deadline ?? Infinity,
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
      const problem = this.locking.fenceProblem(agentId, path, fence);
      if (problem !== undefined)
        throw new DomainError("stale_fence", `fence ${fence} ${problem}; nothing was recorded`);
    }
    checkRoom(VERSION_SEQS, this.data.versions.currentSeq + 1, 1);
    if (agentId > 0) this.checkEditRoom(agentId);
    const seq = this.data.versions.record({ path, agent_id: agentId, op, hash, size, timestamp_ms: now });
    if (agentId > 0) this.noteEditAt(agentId, now);
    return seq;
  }

  changesSince(seq: number, limit?: number): Change[] {
    checkInteger(seq, "seq", 0);
    if (limit !== undefined) checkInteger(limit, "limit", 1);
    this.settle();
    return this.data.versions.changesSince(seq, limit);
  }

  currentSeq(): number {
    this.settle();
    return this.data.versions.currentSeq;
  }

  snapshot(): Snapshot {
    return encodeSnapshot(this.data, this.settings, this.settle());
  }

  /**
   * Replace the whole registry with a snapshot (ours, whose config is adopted,
   * or the `agents` and `versions` sections of a harn-hostlib one), then
   * reap at the current time (the seed's reap_after_recovery). With
   * `reap: false` the snapshot's active agents count as seen now instead.
   * Waiters are not part of a snapshot: they are told `agent_gone`
   * ("restored"). Subscribers are told `registry/restored` before the reap's
   * events. A bad snapshot throws before anything is replaced.
   */
  restore(snapshot: unknown, options: RestoreOptions = {}): RestoreSummary {
    return this.replaceData(decodeSnapshot(snapshot, this.data.nextFence), options);
  }

  /**
   * The first half of {@link restore}, which changes nothing: validate and
   * decode `input` (throwing as restore would) and give it as a format-2
   * snapshot with every lock's fence and the config it leaves in force
   * (format 1 and harn-hostlib locks get their fresh fences now; a snapshot
   * without config keeps the current one). Restoring that snapshot here and
   * now builds exactly the registry restoring `input` would, so a journal
   * keeps it instead of the input (which may hold what JSON cannot carry:
   * bigints, deep nesting, in sections restore ignores).
   */
  prepareRestore(input: unknown): PreparedRestore {
    const decoded = decodeSnapshot(input, this.data.nextFence);
    return { decoded, snapshot: encodeSnapshot(decoded.data, decoded.config ?? this.settings, this.now()) };
  }

  /** The second half of {@link restore}: put a prepared snapshot in place (once). */
  applyRestore(prepared: PreparedRestore, options: RestoreOptions = {}): RestoreSummary {
    return this.replaceData(prepared.decoded, options);
  }

  private replaceData(decoded: DecodedSnapshot, options: RestoreOptions): RestoreSummary {
    this.checkEventRoom(this.eventPotential(decoded.data, 0) + 1);
    const now = this.now();
    this.locking.endWaitsForRestore();
    this.data = decoded.data;
    this.settledAt = now;
    const { agents, table, versions, nextId, nextFence } = this.data;
    this.events.emit(
      {
        type: "registry/restored",
        agents: agents.size,
        locks: table.size,
        current_seq: versions.currentSeq,
        next_id: nextId,
        next_fence: nextFence,
      },
      now,
    );
    this.crashedSinceReap.clear();
    if (decoded.config) this.settings = { ...decoded.config };
    if (options.reap === false) {
      for (const agent of this.data.agents.values())
        if (agent.state === "active" && agent.lastSeenMs < now) agent.lastSeenMs = now;
    }
    this.settle();
    return { agents: this.data.agents.size, locks: this.data.table.size, current_seq: this.data.versions.currentSeq };
  }

  /**
   * Bring time-driven state up to now, as if time had passed through every
   * deadline in order: each one is applied at its own instant (an agent
   * crashes at the first millisecond it is over its timeout, a lock expires
   * at its expiry, a waiter times out at its deadline), and the waiters it
   * frees are granted at that instant, before any later deadline is looked
   * at. So one jump of the clock ends in the same state as any finer path
   * to the same time. A deadline that was already past when it appeared (a
   * restored registry, a shorter agent timeout) is applied at that moment,
   * never before it. On a tie: lock expiry, then agent timeout, then a
   * waiter's deadline, so that a waiter is granted rather than timed out
   * when its conflict ends at its deadline.
   */
  private settle(): number {
    const now = this.now();
    const timeout = this.settings.agent_timeout_ms;
    const data = this.data;
    const locking = this.locking;
    for (;;) {
      const agent = data.nextSilent();
      const lock = data.expiry.peek();
      const waiter = locking.waiters.nextDeadline();
      const lockAt = lock !== undefined && lock.expiresAtMs <= now ? lock.expiresAtMs : Infinity;
      const crashAt = agent === undefined ? Infinity : crashInstant(agent.lastSeenMs, timeout);
      const agentAt = crashAt <= now ? crashAt : Infinity;
      const waiterAt = waiter !== undefined && waiter.deadline <= now ? waiter.deadline : Infinity;
      if (lockAt === Infinity && agentAt === Infinity && waiterAt === Infinity) break;
      const at = Math.max(Math.min(lockAt, agentAt, waiterAt), this.settledAt);
      if (lockAt <= agentAt && lockAt <= waiterAt) {
        locking.release(lock as Lock, "expired", at);
      } else if (agentAt <= waiterAt) {
        this.crash(agent as Agent, at);
      } else if (waiter !== undefined) {
        locking.timeOut(waiter);
      }
      if (locking.hasFreed) locking.pump(at);
    }
    this.settledAt = now;
    return now;
  }

  /** After a change: grant whatever waiters can now go, then return `value`. */
  private finish<T>(value: T): T {
    if (this.locking.hasFreed) this.locking.pump(this.now());
    return value;
  }

  /** The TTL a call asks for, or the configured default. */
  private ttlOf(ttlMs: number | undefined): number {
    return ttlMs === undefined ? this.settings.default_lock_ttl_ms : checkInteger(ttlMs, "ttl_ms", 1);
  }

  private crash(agent: Agent, now: number): void {
    this.locking.failWaitersOf(agent.id, "crashed");
    this.crashedSinceReap.add(agent.id);
    const released = this.locking.agentCrashes(agent, now);
    this.events.emit({ type: "agent/crashed", agent_id: agent.id, released: pathsOf(released) }, now);
  }

  /** Create or replace an agent record (a re-registered id starts afresh: its locks go, reason "replaced"). */
  private install(id: number, name: string, now: number): Agent {
    const previous = this.data.agents.get(id);
    if (previous === undefined) {
      this.locking.checkAgentQuota(id);
      if (this.data.agents.size >= this.locking.limits.maxAgents)
        this.data.removeAgent(this.data.retired.peek() as Agent);
    } else this.locking.agentLeaves(previous, "replaced", now);
    const agent = this.data.addAgent(id, name, "active", now, 0);
    this.events.emit({ type: "agent/registered", agent_id: id, name }, now);
    return agent;
  }

  private ensureAgent(id: number, now: number): Agent {
    return this.data.agents.get(id) ?? this.install(id, defaultAgentName(id), now);
  }

  /**
   * Throw id_space_exhausted unless the event counter has room for `needed`
   * events: by default, for every event the registry can still emit without
   * another call, plus the most one call can add. Calls that can add events
   * (grants, waits, registrations, revivals) check first; then time-driven
   * changes, reads, releases and cancels, which only use up what is
   * counted, never run out of event numbers.
   */
  private checkEventRoom(needed = this.eventPotential() + EVENTS_PER_CALL): void {
    const room = this.events.room;
    if (room < needed) {
      throw new DomainError(
        "id_space_exhausted",
        `${EVENT_SEQS} is exhausted: ${room} numbers are left and this call could need ${needed}; nothing was changed`,
      );
    }
  }

  /**
   * The events `data` can still emit with no further call: a release per live lock, a crash per active agent, and each
   * waiter's.
   */
  private eventPotential(data = this.data, waiters = this.locking.waiters.size): number {
    return data.table.size - data.delayed.size + data.agentsInState.active + waiters * EVENTS_PER_WAITER;
  }

  /** Throw id_space_exhausted when the agent's edit_count is at 2^53-1. */
  private checkEditRoom(agentId: number): void {
    const agent = this.data.agents.get(agentId);
    if (agent !== undefined) checkRoom(editCount(agentId), agent.editCount + 1, 1);
  }

  private noteEditAt(id: number, now: number): void {
    const agent = this.data.agents.get(id);
    if (agent === undefined) return;
    agent.editCount++;
    this.data.touch(agent, now);
  }
}

/**
 * The first millisecond at which an agent last seen at `lastSeenMs` is over its timeout: silent for more than `timeout`
 * ms.
 */
function crashInstant(lastSeenMs: number, timeout: number): number {
  return lastSeenMs + timeout + 1;
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

/** Check every id of a list before any is used, so that a bad one late in the list changes nothing. */
function checkAgentIds(ids: readonly number[]): void {
  if (!Array.isArray(ids)) throw new InvalidInputError("agent_ids", "must be a list of agent ids");
  ids.forEach((id, index) => {
    checkAgentId(id, `agent_ids[${index}]`);
  });
}

/** Paths of released locks (already sorted). */
function pathsOf(locks: Lock[]): string[] {
  return locks.map((lock) => lock.path);
}

function detail(agent: Agent): AgentDetail {
  const locks = locksByPath(agent).map((lock) => ({ path: lock.path, expires_at_ms: lock.expiresAtMs }));
  return { ...agentFields(agent), locks };
}
