import { type HeapNode, IndexedHeap } from "./heap.js";
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
  /** Its locks; looked up by path through {@link RegistryState.locks}. */
  readonly locks: Set<Lock>;
}

/** A live lock on one normalised path. */
export interface Lock extends HeapNode {
  readonly path: string;
  readonly holder: Agent;
  expiresAtMs: number;
}

/**
 * The registry's data and its indexes: agents by id, locks by path, and the
 * two deadline heaps. Every mutation goes through a method here so that the
 * indexes never disagree.
 */
export class RegistryState {
  nextId = 1;
  readonly agents = new SlotMap<number, Agent>();
  readonly locks = new SlotMap<string, Lock>();
  /**
   * Active agents keyed by `silenceKey`. A sign of life only updates
   * `lastSeenMs`; {@link nextSilent} re-keys a stale agent when it reaches
   * the top, so a heartbeat costs O(1) and each agent is re-keyed at most
   * once per timeout period.
   */
  readonly silence = new IndexedHeap<Agent>((agent) => agent.silenceKey);
  /** Live locks keyed by expiry. */
  readonly expiry = new IndexedHeap<Lock>((lock) => lock.expiresAtMs);
  readonly versions = new VersionLog();

  /** Add a record for an id that has none. */
  addAgent(id: number, name: string, state: AgentStateName, lastSeenMs: number, editCount: number): Agent {
    const agent: Agent = { id, name, state, lastSeenMs, silenceKey: lastSeenMs, editCount, locks: new Set(), heapIndex: -1 };
    this.agents.set(id, agent);
    if (state === "active") this.silence.push(agent);
    if (id >= this.nextId) this.nextId = id + 1;
    return agent;
  }

  /** Create or replace a record as freshly registered (the seed's register_with_id). */
  installAgent(id: number, name: string, now: number): Agent {
    const previous = this.agents.get(id);
    if (previous !== undefined) this.removeAgent(previous);
    return this.addAgent(id, name, "active", now, 0);
  }

  removeAgent(agent: Agent): void {
    this.dropLocks(agent);
    this.silence.remove(agent);
    this.agents.delete(agent.id);
  }

  /** A sign of life: refresh last_seen and revive a crashed (or gone) agent. */
  touch(agent: Agent, now: number): void {
    agent.lastSeenMs = now;
    if (agent.state === "active") return;
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

  crash(agent: Agent): void {
    agent.state = "crashed";
    this.silence.remove(agent);
    this.dropLocks(agent);
  }

  /** Lock a free path for `holder`; when the path is held, change nothing and return the lock on it. */
  claim(holder: Agent, path: string, expiresAtMs: number): Lock | undefined {
    const lock: Lock = { path, holder, expiresAtMs, heapIndex: -1 };
    const held = this.locks.insert(path, lock);
    if (held !== undefined) return held;
    holder.locks.add(lock);
    this.expiry.push(lock);
    return undefined;
  }

  setExpiry(lock: Lock, expiresAtMs: number): void {
    lock.expiresAtMs = expiresAtMs;
    this.expiry.update(lock);
  }

  removeLock(lock: Lock): void {
    lock.holder.locks.delete(lock);
    this.locks.delete(lock.path);
    this.expiry.remove(lock);
  }

  dropLocks(agent: Agent): void {
    for (const lock of agent.locks) {
      this.locks.delete(lock.path);
      this.expiry.remove(lock);
    }
    agent.locks.clear();
  }
}
