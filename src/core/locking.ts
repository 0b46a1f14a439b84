import { MAX_PATHS_PER_ACQUIRE, RELEASE_REASONS } from "../../protocol/constants.js";
import { type LockClaim, claim, conflicts, modeCovers } from "./conflict-rule.js";
import { FENCES, WAIT_IDS, checkRoom, exhaustion } from "./counters.js";
import { DomainError } from "./errors.js";
import type { ReleaseReason } from "../../protocol/events.js";
import type { EventLog } from "./events.js";
import type { LockMode } from "./lock-table.js";
import { forEachAncestor, isWithin } from "./paths.js";
import { type Agent, type Lock, type RegistryData, locksByPath } from "./registry-data.js";
import type {
  AcquireResult,
  Conflict,
  GrantedLock,
  LockInfo,
  RegistryStats,
  RenewResult,
  TryLockResult,
} from "./store.js";
import { ALL, type IdRange, aheadOf, behind } from "./wait-index.js";
import { type WaitOutcome, WaitQueue, type Waiter } from "./wait-queue.js";
import { describeCycle, findCycle } from "./waits-for.js";

/** Limits that keep one runaway host from exhausting the others' memory; past them: quota_exceeded, nothing changed. */
export interface Limits {
  /**
   * Agent records of any state; a new agent past it evicts the crashed record seen longest ago, and is refused only
   * when every record is active.
   */
  maxAgents: number;
  maxLocksPerAgent: number;
}

export const DEFAULT_LIMITS: Limits = { maxAgents: 100_000, maxLocksPerAgent: 10_000 };

/**
 * The rules this version applies, numbered so that a journal replays each
 * change under the rules it was made under. 2: a waiting acquire registers
 * its agent only when it is granted (1: when it started to wait), and a
 * renew never shortens a lock (1: it set the expiry to now + ttl).
 */
export const RULES = 2;

/** Settings of the process rather than of the registry's data: lock-delay, limits and rules. */
export interface ProcessOptions {
  crashLockDelayMs: number;
  limits: Limits;
  /** {@link RULES}; absent (1) in the journals and state files of versions before rules were numbered. */
  rules?: number;
}

/** The process settings that `options` ask for, defaults filled in (the current rules). */
export function processOptionsOf(options: { crashLockDelayMs?: number; limits?: Partial<Limits> }): ProcessOptions {
  return {
    crashLockDelayMs: options.crashLockDelayMs ?? 0,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    rules: RULES,
  };
}

/**
 * The most events a waiter can still cause: its agent registered at the grant (when it has no record), its grants (one
 * per path), their releases, and its agent crashing again.
 */
export const EVENTS_PER_WAITER = 2 * MAX_PATHS_PER_ACQUIRE + 2;

/** An acquire, validated: what {@link Locking.acquire} grants or queues. */
export interface LockRequest {
  agentId: number;
  paths: readonly string[];
  mode: LockMode;
  ttlMs: number;
  waitMs: number;
}

type AcquireWaiter = Waiter<AcquireResult>;

/** What the lock policy needs of the registry it serves. */
export interface LockingHost {
  /** The registry's data now (a restore replaces it). */
  data(): RegistryData;
  /** The agent's record, registered as a new agent when it has none. */
  ensureAgent(id: number, now: number): Agent;
}

/**
 * The lock policy: who blocks whom (the conflict rule of conflict-rule.ts,
 * applied through the lock table and, through the wait index, to queued
 * requests), grants, releases, the FIFO wait queue and its pump, deadlock
 * refusal (waits-for.ts), time-outs, the blocking holder, fences, the
 * crash lock-delay and the quotas. The registry (registry.ts) validates
 * each call's input and settles time, then delegates here; this module
 * changes the registry's data only through {@link RegistryData}'s methods.
 *
 * The pump looks only at candidates: the waiters that something freed
 * since they were last found blocked (a lock they conflicted with went or
 * became shared, a request queued ahead of them that they conflicted with
 * went). Every other waiter is still blocked by what blocked it, so
 * granting the candidates in queue order grants exactly what a pass over
 * the whole queue would.
 */
export class Locking {
  /** A path freed because its holder crashed stays unavailable to others this long (Chubby's lock-delay). */
  crashLockDelayMs = 0;
  limits: Limits = { ...DEFAULT_LIMITS };
  rules = RULES;
  readonly waiters = new WaitQueue<AcquireResult>();
  /** Waiters something freed since they were last looked at, for this pass of the pump (see {@link pump}). */
  private readonly candidates = new WaiterHeap();
  /** While the pump looks at waiter n: candidates at or before n, for its next pass. */
  private nextPass: Set<AcquireWaiter> | undefined;
  private pumpingAt = 0;
  /** Counters since this registry was made (restores keep them). */
  private readonly counted = {
    granted: 0,
    refused: 0,
    waitsStarted: 0,
    waitsGranted: 0,
    waitsTimedOut: 0,
    waitsCancelled: 0,
    waitsGone: 0,
    waitsOverQuota: 0,
  };
  private readonly releasedFor = Object.fromEntries(RELEASE_REASONS.map((reason) => [reason, 0])) as Record<
    ReleaseReason,
    number
  >;

  constructor(
    private readonly host: LockingHost,
    private readonly events: EventLog,
  ) {}

  private get data(): RegistryData {
    return this.host.data();
  }

  /** Something was freed since the waiters were last looked at: {@link pump} may grant some. */
  get hasFreed(): boolean {
    return this.candidates.size > 0;
  }

  /** The single-path exclusive acquire that never waits (the seed's try_lock). */
  tryLock(agentId: number, path: string, ttlMs: number, now: number): TryLockResult {
    const paths = [path];
    if (this.requestConflicts(agentId, paths, "exclusive", true).length > 0) {
      this.counted.refused++;
      return { locked: false, holder: this.blockingHolder(agentId, path) };
    }
    this.checkGrant(agentId, paths);
    this.grantAll(agentId, paths, "exclusive", ttlMs, now);
    return { locked: true, holder: agentId };
  }

  /**
   * Grant every path or none; with `waitMs > 0` and `onWaitDone`, queue a
   * request that cannot be granted now, unless waiting would close a cycle
   * of waits: then throw `deadlock` with the cycle (and tell subscribers),
   * changing nothing else. Only a new wait adds waits-for edges (see
   * README, Locking), so this check keeps the queue free of cycles. An
   * agent without a record gets one only when it is granted: a wait that
   * ends ungranted changes nothing.
   */
  acquire(
    request: LockRequest,
    now: number,
    onWaitDone?: (outcome: WaitOutcome<AcquireResult>) => void,
  ): AcquireResult | { waiting: number } {
    const { agentId, paths, mode, ttlMs, waitMs } = request;
    const waits = waitMs > 0 && onWaitDone !== undefined;
    const conflicts = this.requestConflicts(agentId, paths, mode, waits);
    if (conflicts.length === 0) {
      this.checkGrant(agentId, paths);
      return this.grantAll(agentId, paths, mode, ttlMs, now);
    }
    if (!waits) {
      this.counted.refused++;
      return { granted: false, locks: [], conflicts };
    }
    this.checkGrant(agentId, paths);
    checkRoom(WAIT_IDS, this.waiters.nextWaitId, 1);
    const cycle = findCycle(this.data, this.waiters, agentId, paths, mode);
    if (cycle !== undefined) {
      this.counted.refused++;
      this.events.emit({ type: "lock/deadlock", agent_id: agentId, paths: [...paths], mode, cycle }, now);
      throw new DomainError(
        "deadlock",
        `waiting would close a cycle of waits: ${describeCycle(cycle)}; refused, nothing changed`,
        { cycle },
      );
    }
    if (this.rules < 2) this.host.ensureAgent(agentId, now);
    const waiter = this.waiters.add({
      agentId,
      paths,
      mode,
      ttlMs,
      deadline: now + waitMs,
      done: onWaitDone as (outcome: WaitOutcome<AcquireResult>) => void,
    });
    this.counted.waitsStarted++;
    return { waiting: waiter.id };
  }

  /** Stop waiting; the waiter is told `cancelled`. False when it is no longer waiting. */
  cancel(waiterId: number): boolean {
    const waiter = this.waiters.get(waiterId);
    if (waiter === undefined) return false;
    this.removeWaiter(waiter);
    this.counted.waitsCancelled++;
    waiter.done({ kind: "cancelled" });
    return true;
  }

  /**
   * Extend the agent's locks on `paths` (all of them when undefined) to expire no earlier than `now + ttlMs` (never
   * sooner than they did); the others are missing.
   */
  renew(agentId: number, paths: readonly string[] | undefined, ttlMs: number, now: number): RenewResult {
    const agent = this.data.agents.get(agentId);
    const targets = paths ?? (agent === undefined ? [] : locksByPath(agent).map((lock) => lock.path));
    const renewed: GrantedLock[] = [];
    const missing: string[] = [];
    for (const path of targets) {
      const lock = agent?.locks.get(path);
      if (lock === undefined) {
        missing.push(path);
        continue;
      }
      if (this.rules < 2 || lock.expiresAtMs < now + ttlMs) this.data.setExpiry(lock, now + ttlMs);
      renewed.push(granted(lock));
    }
    if (agent !== undefined && renewed.length > 0) this.data.touch(agent, now);
    return { renewed, missing };
  }

  /** A lock stops being held, for `reason`; a lock left by the lock-delay goes without an event. */
  release(lock: Lock, reason: ReleaseReason, now: number, note?: string): void {
    const delayed = this.data.isDelayed(lock);
    this.data.removeLock(lock);
    if (delayed) this.lockGone(lock.holder.id, lock.path, lock.mode);
    else this.announceReleases([lock], reason, now, note);
  }

  /** Release every lock of `agent`; returns them, sorted by path. */
  releaseAll(agent: Agent, now: number): Lock[] {
    const released = this.data.dropLocks(agent);
    this.announceReleases(released, "released", now);
    return released;
  }

  /** An operator's override: every lock exactly on `path` goes, whoever holds it. */
  forceRelease(path: string, note: string | undefined, now: number): Lock[] {
    const locks = [...this.data.table.holdersAt(path)];
    for (const lock of locks) this.release(lock, "forced", now, note);
    return locks;
  }

  /**
   * `agent`'s record goes (unregistered, or replaced by a new registration): its waits end and its locks are released.
   */
  agentLeaves(agent: Agent, why: "unregistered" | "replaced", now: number): Lock[] {
    this.failWaitersOf(agent.id, why);
    const released = this.data.removeAgent(agent);
    this.announceReleases(released, why, now);
    return released;
  }

  /**
   * `agent` crashes: its locks are released, or left for the lock-delay. (Its waits were ended first: {@link
   * failWaitersOf}.)
   */
  agentCrashes(agent: Agent, now: number): Lock[] {
    const released = this.data.crash(agent, this.crashLockDelayMs > 0 ? now + this.crashLockDelayMs : undefined);
    this.announceReleases(released, "crashed", now);
    return released;
  }

  /** End the waits of `agentId` with agent_gone. */
  failWaitersOf(agentId: number, why: "crashed" | "unregistered" | "replaced"): void {
    const mine = this.waiters.of(agentId);
    if (mine === undefined) return;
    for (const waiter of [...mine]) {
      this.removeWaiter(waiter);
      this.counted.waitsGone++;
      waiter.done({ kind: "agent_gone", why });
    }
  }

  /**
   * End every wait because a restore replaced the whole registry (not counted: the waits are not ended by their
   * agents).
   */
  endWaitsForRestore(): void {
    for (const waiter of [...this.waiters.values()]) {
      this.waiters.remove(waiter);
      waiter.done({ kind: "agent_gone", why: "restored" });
    }
    this.candidates.clear();
  }

  /** A waiter's deadline passed: it is answered with the conflicts that kept it waiting. */
  timeOut(waiter: AcquireWaiter): void {
    this.removeWaiter(waiter);
    const conflicts = this.conflictsFor(waiter.agentId, waiter.paths, waiter.mode, aheadOf(waiter.id), false);
    this.counted.waitsTimedOut++;
    this.counted.refused++;
    waiter.done({ kind: "timed_out", result: { granted: false, locks: [], conflicts } });
  }

  /**
   * Grant waiters, oldest first, whose conflicts are gone and who conflict
   * with no older waiter still waiting: the candidates (see the class
   * comment), in queue order. A grant frees the waiters behind it that
   * conflicted with it, which this pass looks at in turn; a grant can also
   * free something itself (a queued downgrade to shared), and the waiters
   * it frees at or before the one granted are looked at in a next pass, as
   * a pass over the whole queue would (passes repeat until one frees nothing).
   */
  pump(now: number): void {
    while (this.candidates.size > 0) {
      const nextPass = new Set<AcquireWaiter>();
      this.nextPass = nextPass;
      try {
        for (let waiter = this.candidates.pop(); waiter !== undefined; waiter = this.candidates.pop()) {
          if (this.waiters.has(waiter)) this.tryGrant(waiter, now);
        }
      } finally {
        this.nextPass = undefined;
        this.pumpingAt = 0;
      }
      for (const waiter of nextPass) this.candidates.push(waiter);
    }
  }

  /** The conflicts an acquire would meet now (queued requests included), changing nothing. */
  check(holderId: number, paths: readonly string[], mode: LockMode): Conflict[] {
    return this.requestConflicts(holderId, paths, mode, false);
  }

  /**
   * What blocks a new request of `holderId` for `paths` in `mode`: nothing
   * when it only refreshes what the agent holds (every path held, in the
   * same mode or exclusive for a shared request: a refresh or a downgrade
   * takes nothing from anyone, so no lock or queued request stands in its
   * way), else the conflicts with locks and with every queued request.
   * Whether it only refreshes is looked at only when something conflicts.
   */
  private requestConflicts(holderId: number, paths: readonly string[], mode: LockMode, firstOnly: boolean): Conflict[] {
    const conflicts = this.conflictsFor(holderId, paths, mode, ALL, firstOnly);
    return conflicts.length > 0 && this.refreshesOnly(holderId, paths, mode) ? [] : conflicts;
  }

  /** Whether `holderId` holds every one of `paths` in `mode` or exclusively. */
  private refreshesOnly(holderId: number, paths: readonly string[], mode: LockMode): boolean {
    const held = this.data.agents.get(holderId)?.locks;
    if (held === undefined) return false;
    for (const path of paths) {
      const lock = held.get(path);
      if (lock === undefined || !modeCovers(lock.mode, mode)) return false;
    }
    return true;
  }

  /** Who holds exactly `path`, and how many requests wait for it; null when nobody does either. */
  info(path: string): LockInfo | null {
    const holders = this.data.table.holdersAt(path);
    const waiting = this.waiters.countFor(path);
    if (holders.length === 0 && waiting === 0) return null;
    return {
      path,
      mode: holders[0]?.mode ?? null,
      holders: holders.map((lock) => ({
        agent_id: lock.holder.id,
        fence: lock.fence,
        expires_at_ms: lock.expiresAtMs,
      })),
      waiters: waiting,
    };
  }

  /**
   * The agent whose lock blocks `holderId` (0: anybody) from taking `path`
   * exclusively: a lock on it or a covering directory (the exclusive one,
   * else the earliest shared grant), else one below it; null when none.
   */
  blockingHolder(holderId: number, path: string): number | null {
    const covering = this.data.table.coveringConflicts(holderId, path, "exclusive");
    const exclusive = covering.find((lock) => lock.mode === "exclusive");
    if (exclusive !== undefined) return exclusive.holder.id;
    if (covering.length > 0) return covering.reduce((a, b) => (b.fence < a.fence ? b : a)).holder.id;
    return this.data.table.conflictBelow(holderId, path, "exclusive")?.holderId ?? null;
  }

  /**
   * Why `fence` does not authorise `agentId` to write `path`, or undefined
   * when it does: it must be the fence of a live exclusive lock of the agent
   * on the path or a directory covering it (a shared lock lets others hold
   * the same path, so it authorises no write).
   */
  fenceProblem(agentId: number, path: string, fence: number): string | undefined {
    const locks = this.data.agents.get(agentId)?.locks;
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
      return (
        `is a shared lock ${where}; a fence authorises a write only under an exclusive lock (others may share ` +
        `${JSON.stringify(lock.path)})`
      );
    }
    return undefined;
  }

  /**
   * Throw quota_exceeded when a new agent `id` would pass --max-agents and no crashed record is left to evict for it
   * (see Registry.install).
   */
  checkAgentQuota(id: number): void {
    const problem = this.agentQuotaProblem(id);
    if (problem !== undefined) throw new DomainError("quota_exceeded", problem);
  }

  /**
   * Why a record for `agentId` would pass --max-agents (none when it has one), or undefined: checked again when a
   * waiter without a record is granted.
   */
  private agentQuotaProblem(agentId: number): string | undefined {
    const count = this.data.agents.size;
    if (this.data.agents.has(agentId) || count < this.limits.maxAgents || this.data.retired.size > 0) return undefined;
    return `agent ${agentId} would be agent number ${count + 1}, past --max-agents ${this.limits.maxAgents}`;
  }

  /** The lock and wait counters since start, and the gauges now. */
  stats(): Pick<RegistryStats, "locks" | "waits"> {
    const c = this.counted;
    const r = this.releasedFor;
    return {
      locks: {
        held: this.data.table.size - this.data.delayed.size,
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
    };
  }

  /** Grant `waiter` (or end it over quota or fences) unless a lock or an earlier waiter still blocks it. */
  private tryGrant(waiter: AcquireWaiter, now: number): void {
    this.pumpingAt = waiter.id;
    if (this.conflictsFor(waiter.agentId, waiter.paths, waiter.mode, aheadOf(waiter.id), true).length > 0) return;
    this.removeWaiter(waiter);
    const fresh = this.newLockCount(waiter.agentId, waiter.paths);
    const overQuota = this.agentQuotaProblem(waiter.agentId) ?? this.lockQuotaProblem(waiter.agentId, fresh);
    const exhausted = overQuota === undefined ? exhaustion(FENCES, this.data.nextFence, fresh) : undefined;
    if (overQuota !== undefined) {
      this.counted.waitsOverQuota++;
      waiter.done({ kind: "quota_exceeded", why: overQuota });
    } else if (exhausted !== undefined) {
      this.counted.refused++;
      waiter.done({ kind: "id_space_exhausted", why: exhausted });
    } else {
      this.counted.waitsGranted++;
      waiter.done({
        kind: "granted",
        result: this.grantAll(waiter.agentId, waiter.paths, waiter.mode, waiter.ttlMs, now),
      });
    }
  }

  /** `waiter` stops waiting: the waiters behind it that conflicted with it become candidates. */
  private removeWaiter(waiter: AcquireWaiter): void {
    this.waiters.remove(waiter);
    for (const path of waiter.paths)
      this.waiters.index.forEachConflict(waiter.agentId, path, waiter.mode, behind(waiter.id), this.addCandidate, CUT);
  }

  /**
   * A lock of `holderId` on `path` in `mode` went (or became shared): the waiters that conflicted with it become
   * candidates.
   */
  private lockGone(holderId: number, path: string, mode: LockMode): void {
    this.waiters.index.forEachConflict(holderId, path, mode, ALL, this.addCandidate, CUT);
  }

  /** A candidate for the pump: for this pass unless the pump is already past it. */
  private readonly addCandidate = (waiter: AcquireWaiter): void => {
    if (this.nextPass !== undefined && waiter.id <= this.pumpingAt) this.nextPass.add(waiter);
    else this.candidates.push(waiter);
  };

  private grantAll(agentId: number, paths: readonly string[], mode: LockMode, ttl: number, now: number): AcquireResult {
    const agent = this.host.ensureAgent(agentId, now);
    this.data.touch(agent, now);
    const locks: GrantedLock[] = [];
    for (const path of paths) {
      let lock = agent.locks.get(path);
      if (lock === undefined) {
        lock = this.data.grant(agent, path, mode, now + ttl);
        this.counted.granted++;
      } else {
        this.data.setExpiry(lock, now + ttl);
        if (lock.mode === mode) {
          locks.push(granted(lock));
          continue;
        }
        if (mode === "shared") this.lockGone(agentId, path, "exclusive");
        this.data.table.setMode(lock, mode);
      }
      locks.push(granted(lock));
      this.events.granted(agentId, path, mode, lock.fence, lock.expiresAtMs, now);
    }
    return { granted: true, locks, conflicts: [] };
  }

  /**
   * What blocks `holderId` from taking `paths` in `mode`: locks on each path
   * or a covering directory, one lock below it, and the requests queued in
   * `queued` (no barging; found through the wait index), each listed once,
   * a queued request in queue order with the first of its paths that
   * conflicts. With `firstOnly`, stops at the first.
   */
  private conflictsFor(
    holderId: number,
    paths: readonly string[],
    mode: LockMode,
    queued: IdRange,
    firstOnly: boolean,
  ): Conflict[] {
    const out: Conflict[] = [];
    const listed = firstOnly ? undefined : new Set<Lock>();
    const add = (lock: Lock) => {
      if (listed?.has(lock)) return;
      out.push(conflict(lock));
      listed?.add(lock);
    };
    const table = this.data.table;
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
    if (this.waiters.size === 0) return out;
    const index = this.waiters.index;
    const found = new Set<AcquireWaiter>();
    const note = (waiter: AcquireWaiter) => {
      found.add(waiter);
      return firstOnly;
    };
    for (const path of paths) if (index.forEachConflict(holderId, path, mode, queued, note)) break;
    if (found.size === 0) return out;
    const wanted = paths.map((path) => claim(holderId, path, mode));
    for (const waiter of [...found].sort((a, b) => a.id - b.id)) {
      out.push({
        path: queuedConflict(wanted, waiter) as string,
        holder: waiter.agentId,
        mode: waiter.mode,
        expires_at_ms: null,
        queued: true,
      });
    }
    return out;
  }

  /** The lock that the table's counts report below `dir`: one of `holderId`, in `mode`, strictly below `dir`. */
  private lockBelow(holderId: number, dir: string, mode: LockMode): Lock {
    const standsFor = (lock: Lock) => lock.mode === mode && lock.path !== dir && isWithin(lock.path, dir);
    const agent = this.data.agents.get(holderId);
    for (const lock of agent?.locks.values() ?? []) if (standsFor(lock)) return lock;
    for (const lock of this.data.delayed) if (lock.holder.id === holderId && standsFor(lock)) return lock;
    throw new Error(`lock table counts a lock of agent ${holderId} below ${dir} that no index holds`);
  }

  /**
   * Throw, before anything changes, when `agentId` taking `paths` would pass a limit (quota_exceeded) or need fences
   * past 2^53-1 (id_space_exhausted).
   */
  private checkGrant(agentId: number, paths: readonly string[]): void {
    if (!this.data.agents.has(agentId)) this.checkAgentQuota(agentId);
    const fresh = this.newLockCount(agentId, paths);
    const problem = this.lockQuotaProblem(agentId, fresh);
    if (problem !== undefined) throw new DomainError("quota_exceeded", problem);
    checkRoom(FENCES, this.data.nextFence, fresh);
  }

  /** Why `agentId` taking `fresh` new locks would pass --max-locks-per-agent, or undefined. */
  private lockQuotaProblem(agentId: number, fresh: number): string | undefined {
    const count = (this.data.agents.get(agentId)?.locks.size ?? 0) + fresh;
    if (count <= this.limits.maxLocksPerAgent) return undefined;
    return `agent ${agentId} would hold ${count} locks, past --max-locks-per-agent ${this.limits.maxLocksPerAgent}`;
  }

  /** How many of `paths` the agent does not hold yet: each would take a new fence. */
  private newLockCount(agentId: number, paths: readonly string[]): number {
    const held = this.data.agents.get(agentId)?.locks;
    if (held === undefined) return paths.length;
    let count = 0;
    for (const path of paths) if (!held.has(path)) count++;
    return count;
  }

  private announceReleases(locks: Lock[], reason: ReleaseReason, now: number, note?: string): void {
    for (const lock of locks) this.lockGone(lock.holder.id, lock.path, lock.mode);
    this.releasedFor[reason] += locks.length;
    for (const lock of locks) this.events.released(lock.holder.id, lock.path, lock.mode, lock.fence, reason, note, now);
  }
}

/** The first path `waiter` wants that conflicts with one of the `wanted` claims (a request queued ahead of them). */
function queuedConflict(wanted: readonly LockClaim[], waiter: AcquireWaiter): string | undefined {
  return waiter.paths.find((path) => {
    const queued = claim(waiter.agentId, path, waiter.mode);
    return wanted.some((request) => conflicts(request, queued));
  });
}

/** Candidates are looked for with the blocked cut (see WaitIndex.forEachConflict). */
const CUT = { blockedCut: true };

/**
 * Waiters by id, the smallest first: a binary heap that takes each waiter
 * once (pushing one already in it does nothing). A waiter that stops
 * waiting is left in it; the pump skips it.
 */
class WaiterHeap {
  private readonly items: AcquireWaiter[] = [];
  private readonly members = new Set<AcquireWaiter>();

  get size(): number {
    return this.items.length;
  }

  push(waiter: AcquireWaiter): void {
    if (this.members.has(waiter)) return;
    this.members.add(waiter);
    const items = this.items;
    let at = items.length;
    items.push(waiter);
    while (at > 0) {
      const up = (at - 1) >> 1;
      const parent = items[up] as AcquireWaiter;
      if (parent.id <= waiter.id) break;
      items[at] = parent;
      at = up;
    }
    items[at] = waiter;
  }

  pop(): AcquireWaiter | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.members.delete(top);
    const last = items.pop() as AcquireWaiter;
    if (items.length > 0) {
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child =
          right < items.length && (items[right] as AcquireWaiter).id < (items[left] as AcquireWaiter).id ? right : left;
        if ((items[child] as AcquireWaiter).id >= last.id) break;
        items[at] = items[child] as AcquireWaiter;
        at = child;
      }
      items[at] = last;
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
    this.members.clear();
  }
}

/** A lock as an acquire or renew reports it. */
function granted(lock: Lock): GrantedLock {
  return { path: lock.path, mode: lock.mode, fence: lock.fence, expires_at_ms: lock.expiresAtMs };
}

function conflict(lock: Lock): Conflict {
  return { path: lock.path, holder: lock.holder.id, mode: lock.mode, expires_at_ms: lock.expiresAtMs, queued: false };
}
