// A tiny, obviously correct registry: arrays and linear scans, no indexes
// or heaps. The model-based test checks the real core against it.

export type Mode = "exclusive" | "shared";

/** The last value any counter hands out. */
export const MAX = Number.MAX_SAFE_INTEGER;

export interface ModelAgent {
  name: string;
  state: "active" | "crashed" | "gone";
  lastSeen: number;
  edits: number;
}

export interface ModelLock {
  agent: number;
  path: string;
  mode: Mode;
  fence: number;
  expiry: number;
}

export interface ModelWaiter {
  id: number;
  agent: number;
  paths: string[];
  mode: Mode;
  ttl: number;
  deadline: number;
}

export interface ModelChange {
  path: string;
  seq: number;
  agent_id: number;
  op: string;
  hash: string;
  size: number;
  timestamp_ms: number;
}

/** How a wait ended, as the model sees it (granted locks in full; otherwise only the kind). */
export type ModelOutcome = {
  id: number;
  kind: string;
  locks?: { path: string; mode: Mode; fence: number; expires_at_ms: number }[];
};

/** Two paths overlap when equal or one is an ancestor directory of the other, by whole segments. */
export function overlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

export class ReferenceModel {
  now = 0;
  ttl = 30_000;
  timeout = 45_000;
  nextId = 1;
  nextFence = 1;
  agents = new Map<number, ModelAgent>();
  locks: ModelLock[] = [];
  waiters: ModelWaiter[] = [];
  outcomes: ModelOutcome[] = [];
  nextWaiterId = 1;
  log: ModelChange[] = [];
  seq = 0;
  private crashedSinceReap: number[] = [];
  /** Deadlines are applied up to this time; one found due later is applied no earlier. */
  private settledAt = -Infinity;

  /** Locks of other agents that conflict with `agent` taking `path` in `mode`. */
  lockConflicts(agent: number, path: string, mode: Mode): ModelLock[] {
    return this.locks.filter(
      (l) => l.agent !== agent && (mode === "exclusive" || l.mode === "exclusive") && overlap(l.path, path),
    );
  }

  waiterConflicts(agent: number, paths: string[], mode: Mode, ahead: ModelWaiter[]): ModelWaiter[] {
    return ahead.filter(
      (w) =>
        w.agent !== agent &&
        (mode === "exclusive" || w.mode === "exclusive") &&
        w.paths.some((p) => paths.some((q) => overlap(p, q))),
    );
  }

  blocked(agent: number, paths: string[], mode: Mode, ahead: ModelWaiter[]): boolean {
    return (
      paths.some((p) => this.lockConflicts(agent, p, mode).length > 0) ||
      this.waiterConflicts(agent, paths, mode, ahead).length > 0
    );
  }

  /**
   * Whom a request of `agent` for `paths` in `mode`, queued behind the
   * requests in `ahead`, waits for: each agent holding a lock that
   * conflicts with one of its paths, or with a request in `ahead` that
   * conflicts with one; with the path of the request that makes it wait.
   */
  waitsFor(agent: number, paths: string[], mode: Mode, ahead: ModelWaiter[]): { path: string; to: number }[] {
    const out: { path: string; to: number }[] = [];
    for (const path of paths) {
      for (const lock of this.lockConflicts(agent, path, mode)) out.push({ path, to: lock.agent });
      for (const queued of this.waiterConflicts(agent, [path], mode, ahead)) out.push({ path, to: queued.agent });
    }
    return out;
  }

  /** The waits-for graph of the queue now, by brute force: every waiter's edges. */
  waitEdges(): { from: number; path: string; to: number }[] {
    return this.waiters.flatMap((w) =>
      this.waitsFor(
        w.agent,
        w.paths,
        w.mode,
        this.waiters.filter((v) => v.id < w.id),
      ).map((edge) => ({ from: w.agent, ...edge })),
    );
  }

  /** Agents reachable from `start` along the waits-for graph (`start` included). */
  reachable(start: number[], edges = this.waitEdges()): Set<number> {
    const seen = new Set(start);
    for (let grew = true; grew; ) {
      grew = false;
      for (const edge of edges) {
        if (seen.has(edge.from) && !seen.has(edge.to)) {
          seen.add(edge.to);
          grew = true;
        }
      }
    }
    return seen;
  }

  /** An agent on a cycle of waits in the queue now, if any. */
  agentOnCycle(): number | undefined {
    const edges = this.waitEdges();
    return [...new Set(edges.map((e) => e.from))].find((agent) =>
      this.reachable(
        edges.filter((e) => e.from === agent).map((e) => e.to),
        edges,
      ).has(agent),
    );
  }

  /** True when a new request of `agent` that waits would close a cycle: an agent it would wait for reaches it. */
  wouldDeadlock(agent: number, paths: string[], mode: Mode): boolean {
    const targets = this.waitsFor(agent, paths, mode, this.waiters).map((edge) => edge.to);
    return targets.length > 0 && this.reachable(targets).has(agent);
  }

  /** Why `cycle` is not a cycle of waits that a new request of `agent` would close, or undefined when it is one. */
  cycleProblem(
    agent: number,
    paths: string[],
    mode: Mode,
    cycle: { agent_id: number; path: string; waits_for: number }[],
  ): string | undefined {
    const edges = this.waitEdges();
    for (const [at, edge] of cycle.entries()) {
      const from = at === 0 ? agent : (cycle[at - 1] as { waits_for: number }).waits_for;
      if (edge.agent_id !== from) return `edge ${at} starts at ${edge.agent_id}, not ${from}`;
      const valid =
        at === 0
          ? paths.includes(edge.path) &&
            this.waitsFor(agent, [edge.path], mode, this.waiters).some((e) => e.to === edge.waits_for)
          : edges.some((e) => e.from === edge.agent_id && e.path === edge.path && e.to === edge.waits_for);
      if (!valid) return `edge ${at} (${JSON.stringify(edge)}) is not a wait`;
    }
    if (cycle.at(-1)?.waits_for !== agent) return "the cycle does not come back to the requester";
    return undefined;
  }

  /**
   * Whether `agent` holds every one of `paths` in `mode` or exclusively: such a request only refreshes (or downgrades)
   * and nothing blocks it.
   */
  refreshesOnly(agent: number, paths: string[], mode: Mode): boolean {
    return paths.every((p) =>
      this.locks.some((l) => l.agent === agent && l.path === p && (l.mode === mode || l.mode === "exclusive")),
    );
  }

  /** Whether a new request (not a queued one) is blocked: by a lock or any queued request, unless it only refreshes. */
  requestBlocked(agent: number, paths: string[], mode: Mode): boolean {
    return !this.refreshesOnly(agent, paths, mode) && this.blocked(agent, paths, mode, this.waiters);
  }

  /** Holders a refused exclusive request on `path` may be told about; null when only queued requests block it. */
  acceptableHolders(agent: number, path: string): Set<number | null> {
    const conflicts = this.lockConflicts(agent, path, "exclusive");
    const covering = conflicts.filter((l) => path === l.path || path.startsWith(`${l.path}/`));
    const exclusive = covering.filter((l) => l.mode === "exclusive");
    if (exclusive.length > 0) return new Set(exclusive.map((l) => l.agent));
    if (covering.length > 0) return new Set([covering.reduce((a, b) => (b.fence < a.fence ? b : a)).agent]);
    const below = conflicts.filter((l) => l.path.startsWith(`${path}/`));
    const belowExclusive = below.filter((l) => l.mode === "exclusive");
    if (belowExclusive.length > 0) return new Set(belowExclusive.map((l) => l.agent));
    if (below.length > 0) return new Set(below.map((l) => l.agent));
    return new Set([null]);
  }

  /** Paths of `paths` the agent does not hold yet: each needs a fresh fence. */
  newLocks(agent: number, paths: string[]): number {
    return paths.filter((p) => !this.locks.some((l) => l.agent === agent && l.path === p)).length;
  }

  /** Fences left before 2^53-1. */
  fenceRoom(): number {
    return MAX + 1 - this.nextFence;
  }

  install(id: number, name: string): void {
    if (this.agents.has(id)) this.dropAgent(id, "replaced");
    this.agents.set(id, { name, state: "active", lastSeen: this.now, edits: 0 });
    this.nextId = Math.max(this.nextId, id + 1);
  }

  dropAgent(id: number, why: string): void {
    this.failWaiters(id, why);
    this.locks = this.locks.filter((l) => l.agent !== id);
    this.agents.delete(id);
  }

  failWaiters(agent: number, why: string): void {
    for (const w of this.waiters.filter((w) => w.agent === agent))
      this.outcomes.push({ id: w.id, kind: `agent_gone:${why}` });
    this.waiters = this.waiters.filter((w) => w.agent !== agent);
  }

  touch(id: number): void {
    const agent = this.agents.get(id) as ModelAgent;
    agent.lastSeen = this.now;
    agent.state = "active";
  }

  grantAll(agent: number, paths: string[], mode: Mode, ttl: number) {
    if (!this.agents.has(agent)) this.install(agent, `agent-${agent}`);
    this.touch(agent);
    return paths.map((path) => {
      let lock = this.locks.find((l) => l.agent === agent && l.path === path);
      if (lock === undefined) {
        lock = { agent, path, mode, fence: this.nextFence++, expiry: this.now + ttl };
        this.locks.push(lock);
      } else {
        lock.expiry = this.now + ttl;
        lock.mode = mode;
      }
      return { path, mode, fence: lock.fence, expires_at_ms: lock.expiry };
    });
  }

  /**
   * Grant every waiter, oldest first, that nothing blocks (older waiters still waiting included); repeat while passes
   * grant.
   */
  pump(): void {
    for (;;) {
      const before = this.waiters.length;
      const ahead: ModelWaiter[] = [];
      for (const w of [...this.waiters]) {
        if (this.blocked(w.agent, w.paths, w.mode, ahead)) {
          ahead.push(w);
          continue;
        }
        this.waiters = this.waiters.filter((x) => x !== w);
        if (this.newLocks(w.agent, w.paths) > this.fenceRoom())
          this.outcomes.push({ id: w.id, kind: "id_space_exhausted" });
        else this.outcomes.push({ id: w.id, kind: "granted", locks: this.grantAll(w.agent, w.paths, w.mode, w.ttl) });
      }
      if (this.waiters.length === before) return;
    }
  }

  /**
   * Eager evaluation, one deadline at a time in time order (ties: lock,
   * agent, waiter), each applied at its own instant (an agent crashes at the
   * first millisecond it is over its timeout), pumping at that instant.
   */
  settle(): void {
    const target = this.now;
    try {
      for (;;) {
        const lock = this.locks
          .filter((l) => l.expiry <= target)
          .sort((a, b) => a.expiry - b.expiry || a.fence - b.fence)[0];
        const agentEntry = [...this.agents.entries()]
          .filter(([, a]) => a.state === "active" && target - a.lastSeen > this.timeout)
          .sort(([ida, a], [idb, b]) => a.lastSeen - b.lastSeen || ida - idb)[0];
        const waiter = this.waiters
          .filter((w) => w.deadline <= target)
          .sort((a, b) => a.deadline - b.deadline || a.id - b.id)[0];
        const lockAt = lock?.expiry ?? Infinity;
        const agentAt = agentEntry ? agentEntry[1].lastSeen + this.timeout + 1 : Infinity;
        const waiterAt = waiter?.deadline ?? Infinity;
        if (lockAt === Infinity && agentAt === Infinity && waiterAt === Infinity) return;
        this.now = Math.max(Math.min(lockAt, agentAt, waiterAt), this.settledAt);
        if (lockAt <= agentAt && lockAt <= waiterAt) {
          this.locks = this.locks.filter((l) => l !== lock);
        } else if (agentAt <= waiterAt) {
          const [id, agent] = agentEntry as [number, ModelAgent];
          this.failWaiters(id, "crashed");
          agent.state = "crashed";
          this.locks = this.locks.filter((l) => l.agent !== id);
          if (!this.crashedSinceReap.includes(id)) this.crashedSinceReap.push(id);
        } else {
          const w = waiter as ModelWaiter;
          this.waiters = this.waiters.filter((x) => x !== w);
          this.outcomes.push({ id: w.id, kind: "timed_out" });
        }
        this.pump();
      }
    } finally {
      this.now = target;
      this.settledAt = target;
    }
  }

  takeCrashed(): number[] {
    const out = this.crashedSinceReap.sort((a, b) => a - b);
    this.crashedSinceReap = [];
    return out;
  }

  record(path: string, agentId: number, op: string, hash: string, size: number): number {
    this.seq++;
    this.log.push({ path, seq: this.seq, agent_id: agentId, op, hash, size, timestamp_ms: this.now });
    const kept = this.log.filter((c) => c.path === path);
    if (kept.length > 200) this.log = this.log.filter((c) => c !== kept[0]);
    const agent = this.agents.get(agentId);
    if (agent) {
      agent.edits++;
      this.touch(agentId);
    }
    return this.seq;
  }

  changesSince(since: number, limit?: number): ModelChange[] {
    const after = this.log.filter((c) => c.seq > since);
    return limit === undefined ? after : after.slice(Math.max(0, after.length - limit));
  }

  agentsView() {
    return [...this.agents.entries()]
      .sort(([a], [b]) => a - b)
      .map(([id, a]) => ({
        id,
        name: a.name,
        state: a.state,
        last_seen_ms: a.lastSeen,
        edit_count: a.edits,
        lock_count: this.locks.filter((l) => l.agent === id).length,
      }));
  }

  locksView() {
    return this.locks
      .map((l) => ({ path: l.path, agent_id: l.agent, expires_at_ms: l.expiry }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.agent_id - b.agent_id));
  }
}

/** The model's path rule, written the plain way. Returns null for a path the registry must reject. */
export function modelNormalize(path: string): string | null {
  if (path === "" || path.includes("\0")) return null;
  const p = path.split("\\").join("/");
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return null;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(part);
  }
  const normal = out.join("/");
  return out.length === 0 || /^[A-Za-z]:/.test(normal) ? null : normal;
}
