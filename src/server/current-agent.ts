import type { RegistryStore } from "../core/store.js";

/** One caller's binding: a connection's own (`session` undefined) or one host/call session's of it. */
interface Binding {
  agentId: number;
  readonly owner: ConnectionAgents;
  readonly session: string | undefined;
}

/**
 * Which agent each caller is bound to (current_agent_id, current_agent_set),
 * server-wide, so that a binding ends with its agent: when the agent
 * crashes or is unregistered (the registry's agent-end hook,
 * EventLog.onAgentEnd), and when a restore leaves it not active
 * ({@link afterRestore}). Bindings are connection state: nothing here is
 * journaled or goes into a snapshot, and a connection's bindings go with it.
 *
 * Why a hook rather than an event subscription or a per-agent incarnation:
 * subscribing to the event log would make every lock event an object (the
 * log keeps them in columns so that a busy registry allocates nothing per
 * lock event), and an incarnation would need a field on every agent record
 * and a counter kept across restores, in the core, to answer a question
 * only this module asks. The hook is called on the two rare agent events
 * alone and costs nothing when no caller is bound.
 */
export class AgentBindings {
  private readonly byAgent = new Map<number, Set<Binding>>();

  constructor(private readonly store: RegistryStore) {
    store.events.onAgentEnd((agentId) => this.end(agentId));
  }

  /** The slots of a new connection. */
  connect(): ConnectionAgents {
    return new ConnectionAgents(this);
  }

  /** After a restore replaced the state: unbind every agent that is not active in it. */
  afterRestore(): void {
    for (const agentId of [...this.byAgent.keys()]) if (this.store.agentState(agentId) !== "active") this.end(agentId);
  }

  /** How many callers are bound (for tests). */
  get size(): number {
    let count = 0;
    for (const bound of this.byAgent.values()) count += bound.size;
    return count;
  }

  add(binding: Binding): void {
    const bound = this.byAgent.get(binding.agentId);
    if (bound === undefined) this.byAgent.set(binding.agentId, new Set([binding]));
    else bound.add(binding);
  }

  remove(binding: Binding): void {
    const bound = this.byAgent.get(binding.agentId);
    if (bound === undefined) return;
    bound.delete(binding);
    if (bound.size === 0) this.byAgent.delete(binding.agentId);
  }

  /** The agent ended: every caller bound to it is unbound. */
  private end(agentId: number): void {
    const bound = this.byAgent.get(agentId);
    if (bound === undefined) return;
    this.byAgent.delete(agentId);
    for (const binding of bound) binding.owner.forget(binding);
  }
}

/**
 * The current-agent slots of one connection: its own (bare calls and
 * builtin_call) and one per host/call `sessionId`. Only bound slots take
 * memory; an unbound one is simply absent.
 */
export class ConnectionAgents {
  private own: Binding | undefined;
  private readonly sessions = new Map<string, Binding>();

  constructor(private readonly all: AgentBindings) {}

  /** The agent bound to the slot of `session` (undefined: the connection's own), or null. */
  current(session: string | undefined): number | null {
    return (session === undefined ? this.own : this.sessions.get(session))?.agentId ?? null;
  }

  /** Bind the slot of `session` to `agentId` (null: unbind); returns the previous binding. */
  bind(session: string | undefined, agentId: number | null): number | null {
    const previous = session === undefined ? this.own : this.sessions.get(session);
    if (previous !== undefined) {
      this.forget(previous);
      this.all.remove(previous);
    }
    if (agentId !== null) {
      const binding: Binding = { agentId, owner: this, session };
      if (session === undefined) this.own = binding;
      else this.sessions.set(session, binding);
      this.all.add(binding);
    }
    return previous?.agentId ?? null;
  }

  /** After a restore replaced the state (see AgentBindings.afterRestore). */
  afterRestore(): void {
    this.all.afterRestore();
  }

  /** The connection is gone: unbind all its slots. */
  close(): void {
    if (this.own !== undefined) this.all.remove(this.own);
    for (const binding of this.sessions.values()) this.all.remove(binding);
    this.own = undefined;
    this.sessions.clear();
  }

  /** Drop `binding` from this connection's slots (its agent ended, or it is being replaced). */
  forget(binding: Binding): void {
    if (binding.session === undefined) {
      if (this.own === binding) this.own = undefined;
    } else if (this.sessions.get(binding.session) === binding) {
      this.sessions.delete(binding.session);
    }
  }
}
