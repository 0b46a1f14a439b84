import { AgentLocks } from "./agent-locks.js";
import { type HeapNode, IndexedHeap } from "./heap.js";
import { type LockMode, LockTable, type Lock as TableLock } from "./lock-table.js";
import { compareStrings } from "./paths.js";
import { SlotMap } from "./slot-map.js";
import type { AgentStateName } from "./store.js";
import { VersionLog } from "./version-log.js";

/** An agent record. Only active agents hold locks and sit in the silence heap. */
export interface Agent extends HeapNode {
  readonly id: number;
  name: string;
  state: AgentStateName;
  lastSeenMs: number;
  /** `lastSeenMs` as of the agent's last move in the silence heap; it may lag behind. */
  silenceKey: number;
  editCount: number;
  /** Its live locks by path. */
  readonly locks: AgentLocks<Lock>;
}

/** A lock in the table, held by an agent (or left behind by a crashed one: see `RegistryData.delayed`). */
export type Lock = TableLock<Agent>;

/**
 * The registry's data and its indexes: agents by id, the lock table, the
 * deadline heaps and the version log. Every mutation goes through a method
 * here so that the indexes never disagree.
 */
export class RegistryData {
  nextId = 1;
  /** Next fencing token; strictly increasing, never reused. */
  nextFence = 1;
  readonly agents = new SlotMap<number, Agent>();
  readonly table = new LockTable<Agent>();
  /** Locks left by crashed agents for --crash-lock-delay-ms (they are in no agent's `locks`). */
  readonly delayed = new Set<Lock>();

  /** Left behind by a crashed holder for --crash-lock-delay-ms: blocks others, belongs to nobody. */
  isDelayed(lock: Lock): boolean {
    return this.delayed.size > 0 && this.delayed.has(lock);
  }
  /**
   * Active agents by `silenceKey` (ties: id). A sign of life only updates
   * `lastSeenMs`; {@link nextSilent} re-keys a stale agent when it reaches
   * the top, so a heartbeat costs O(1) and each agent is re-keyed at most
   * once per timeout period.
   */
  readonly silence = new IndexedHeap<Agent>(
    (a, b) => a.silenceKey < b.silenceKey || (a.silenceKey === b.silenceKey && a.id < b.id),
  );
  /**
   * Agents that are not active (crashed, gone), seen longest ago first (ties: id): past --max-agents the first is
   * evicted.
   */
  readonly retired = new IndexedHeap<Agent>(
    (a, b) => a.lastSeenMs < b.lastSeenMs || (a.lastSeenMs === b.lastSeenMs && a.id < b.id),
  );
  /** Every lock in the table, by expiry (ties: grant order). */
  readonly expiry = new IndexedHeap<Lock>(
    (a, b) => a.expiresAtMs < b.expiresAtMs || (a.expiresAtMs === b.expiresAtMs && a.fence < b.fence),
  );
  readonly versions = new VersionLog();
  /** Agent records per state, kept as states change (active ones are also the silence heap). */
  readonly agentsInState: Record<AgentStateName, number> = { active: 0, crashed: 0, gone: 0 };

  /** Every agent record, sorted by id. */
  agentsById(): Agent[] {
    const agents: Agent[] = [];
    this.agents.forEach((agent) => {
      agents.push(agent);
    });
    return agents.sort((a, b) => a.id - b.id);
  }

  /** Add a record for an id that has none (the caller has checked). */
  addAgent(id: number, name: string, state: AgentStateName, lastSeenMs: number, editCount: number): Agent {
    const agent: Agent = {
      id,
      name,
      state,
      lastSeenMs,
      silenceKey: lastSeenMs,
      editCount,
      locks: new AgentLocks(),
      heapIndex: -1,
    };
    this.agents.add(id, agent);
    this.agentsInState[state]++;
    if (state === "active") this.silence.push(agent);
    else this.retired.push(agent);
    if (id >= this.nextId) this.nextId = id + 1;
    return agent;
  }

  /** Drop an agent record; returns the locks it held (already removed). */
  removeAgent(agent: Agent): Lock[] {
    const dropped = this.dropLocks(agent);
    this.silence.remove(agent);
    this.retired.remove(agent);
    this.agents.delete(agent.id);
    this.agentsInState[agent.state]--;
    return dropped;
  }

  /** A sign of life: refresh last_seen and revive a crashed (or gone) agent. */
  touch(agent: Agent, now: number): void {
    agent.lastSeenMs = now;
    if (agent.state === "active") return;
    this.retired.remove(agent);
    this.agentsInState[agent.state]--;
    this.agentsInState.active++;
    agent.state = "active";
    agent.silenceKey = now;
    this.silence.push(agent);
  }

  /** The active agent that has been silent longest, with its heap key brought up to date. */
  nextSilent(): Agent | undefined {
    for (;;) {
      const agent = this.silence.peek();
      if (agent === undefined || agent.silenceKey === agent.lastSeenMs) return agent;
      agent.silenceKey = agent.lastSeenMs;
      this.silence.update(agent);
    }
  }

  /** Mark crashed; its locks leave the table, or stay as delayed locks until `delayUntil` when given. */
  crash(agent: Agent, delayUntil: number | undefined): Lock[] {
    this.agentsInState[agent.state]--;
    this.agentsInState.crashed++;
    agent.state = "crashed";
    this.silence.remove(agent);
    this.retired.update(agent);
    const dropped = this.dropLocks(agent);
    if (delayUntil !== undefined)
      for (const lock of dropped) this.leaveDelayed(agent, lock.path, lock.fence, delayUntil);
    return dropped;
  }

  /** Grant a new lock (the caller has checked for conflicts). */
  grant(holder: Agent, path: string, mode: LockMode, expiresAtMs: number, fence = this.nextFence++): Lock {
    const lock = newLock(holder, path, mode, fence, expiresAtMs);
    holder.locks.add(lock);
    this.table.add(lock);
    this.expiry.push(lock);
    return lock;
  }

  /** Leave a lock of a crashed agent on `path` until `until` (lock-delay); the holder may be gone from the registry. */
  leaveDelayed(holder: Agent, path: string, fence: number, until: number): void {
    const left = newLock(holder, path, "exclusive", fence, until);
    this.table.add(left);
    this.expiry.push(left);
    this.delayed.add(left);
  }

  /** Put a restored lock in place unless it conflicts with one already placed; returns the conflict, if any. */
  place(
    holder: Agent,
    path: string,
    mode: LockMode,
    expiresAtMs: number,
    fence: number,
  ): { holderId: number; path?: string } | undefined {
    const lock = newLock(holder, path, mode, fence, expiresAtMs);
    const conflict = this.table.tryAdd(lock);
    if (conflict !== undefined) return conflict;
    holder.locks.add(lock);
    this.expiry.push(lock);
    return undefined;
  }

  setExpiry(lock: Lock, expiresAtMs: number): void {
    lock.expiresAtMs = expiresAtMs;
    this.expiry.update(lock);
  }

  removeLock(lock: Lock): void {
    if (this.isDelayed(lock)) this.delayed.delete(lock);
    else lock.holder.locks.delete(lock.path);
    this.table.remove(lock);
    this.expiry.remove(lock);
  }

  /** Remove every live lock of an agent; returns them sorted by path. */
  dropLocks(agent: Agent): Lock[] {
    const dropped = locksByPath(agent);
    for (const lock of dropped) {
      this.table.remove(lock);
      this.expiry.remove(lock);
    }
    agent.locks.clear();
    return dropped;
  }
}

function newLock(holder: Agent, path: string, mode: LockMode, fence: number, expiresAtMs: number): Lock {
  return { path, holder, mode, fence, expiresAtMs, heapIndex: -1, dir: undefined };
}

/** The name of an agent registered by its first use (a heartbeat or lock of an unknown id). */
export function defaultAgentName(id: number): string {
  return `agent-${id}`;
}

/** The holder of a delayed lock whose agent has since been unregistered: a crashed record in no index. */
export function detachedAgent(id: number): Agent {
  return {
    id,
    name: defaultAgentName(id),
    state: "crashed",
    lastSeenMs: 0,
    silenceKey: 0,
    editCount: 0,
    locks: new AgentLocks(),
    heapIndex: -1,
  };
}

/** An agent's live locks, sorted by path. */
export function locksByPath(agent: Agent): Lock[] {
  const locks: Lock[] = [];
  agent.locks.forEach((lock) => {
    locks.push(lock);
  });
  return locks.sort((a, b) => compareStrings(a.path, b.path));
}

/** What every view of an agent shows (status, agent_get, a snapshot), in that order. */
export function agentFields(agent: Agent) {
  return {
    id: agent.id,
    name: agent.name,
    state: agent.state,
    last_seen_ms: agent.lastSeenMs,
    edit_count: agent.editCount,
  };
}
