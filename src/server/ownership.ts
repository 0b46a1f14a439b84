import { DomainError } from "../core/errors.js";
import type { RegistryStore } from "../core/store.js";

/**
 * Which connection owns which agent on a socket server. An agent belongs
 * to the connection that last acted as it (registered, auto-registered,
 * heartbeat, locked...) while it was live; another connection acting as it
 * meanwhile gets not_owner. A crashed or unknown agent can be taken by any
 * connection. Agents restored from disk belong to nobody until one acts.
 * A waiting lock_acquire whose agent has no record leaves it unowned (and
 * unknown) while it waits; its grant registers the agent and makes it
 * belong to the waiting connection, as the connection that last acted as it.
 */
export class Owners {
  private readonly ownerOf = new Map<number, number>();
  private readonly agentsOf = new Map<number, Set<number>>();

  constructor(private readonly store: RegistryStore) {}

  /**
   * Run `call` as `agentId` for `connection` ("new": the call creates the agent and returns its id). The call acts when
   * it answers: at once, or (a store that answers later) when its promise fulfils; a waiting lock_acquire also acts
   * when its wait starts ({@link waiting}).
   */
  actAs<T>(connection: number, agentId: number | "new", call: () => T): T {
    if (agentId !== "new") {
      const owner = this.ownerOf.get(agentId);
      if (owner !== undefined && owner !== connection && this.store.agentState(agentId) === "active") {
        throw new DomainError(
          "not_owner",
          `agent ${agentId} is live and belongs to another connection; only that connection may act as it until it ` +
            `crashes or is unregistered`,
        );
      }
    }
    const result = call();
    if (!(result instanceof Promise)) {
      const id = agentId !== "new" ? agentId : typeof result === "number" ? result : undefined;
      if (id !== undefined) this.update(connection, id);
      return result;
    }
    // A waiting lock_acquire acts as its agent again when its wait ends: a grant registers an agent that had no record.
    return result.then((value: unknown) => {
      const id = agentId !== "new" ? agentId : typeof value === "number" ? value : undefined;
      if (id !== undefined) this.update(connection, id);
      return value;
    }) as T;
  }

  /** A lock_acquire of `connection` acting as `agentId` started waiting: it acted as the agent. */
  waiting(connection: number, agentId: number): void {
    this.update(connection, agentId);
  }

  /** Forget a closed connection; returns the agents it owned. */
  disconnect(connection: number): number[] {
    const agents = [...(this.agentsOf.get(connection) ?? [])];
    for (const id of agents) this.ownerOf.delete(id);
    this.agentsOf.delete(connection);
    return agents;
  }

  private update(connection: number, agentId: number): void {
    const previous = this.ownerOf.get(agentId);
    if (previous !== undefined && previous !== connection) this.agentsOf.get(previous)?.delete(agentId);
    if (this.store.agentState(agentId) === undefined) {
      this.ownerOf.delete(agentId);
      this.agentsOf.get(connection)?.delete(agentId);
      return;
    }
    this.ownerOf.set(agentId, connection);
    let mine = this.agentsOf.get(connection);
    if (mine === undefined) this.agentsOf.set(connection, (mine = new Set()));
    mine.add(agentId);
  }
}
