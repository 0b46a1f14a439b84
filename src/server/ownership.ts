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

  /** Run `call` as `agentId` for `connection` ("new": the call creates the agent and returns its id). */
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
    const id = agentId !== "new" ? agentId : typeof result === "number" ? result : undefined;
    if (id !== undefined) this.update(connection, id);
    if (id !== undefined && result instanceof Promise) {
      // A waiting lock_acquire acts as its agent again when it is granted, which registers an agent that had no record.
      return result.then((value: unknown) => {
        if (isGrant(value)) this.update(connection, id);
        return value;
      }) as T;
    }
    return result;
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

/** A granted lock_acquire's result. */
function isGrant(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { granted?: unknown }).granted === true;
}
