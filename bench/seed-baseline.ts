// The seed's lock algorithm (harn-hostlib 0.7.50 agents.rs) ported as
// written: every try_lock and lock_holder walks every agent. Used only as the
// baseline that the core benchmark measures beside ours, in the same run.

interface SeedAgent {
  state: "active" | "crashed";
  lastSeen: number;
  lockedPaths: Map<string, number>;
}

export class SeedRegistry {
  private readonly agents = new Map<number, SeedAgent>();
  private nextId = 1;

  constructor(
    private readonly ttl = 30_000,
    private readonly timeout = 45_000,
  ) {}

  register(now: number): number {
    const id = this.nextId++;
    this.agents.set(id, { state: "active", lastSeen: now, lockedPaths: new Map() });
    return id;
  }

  /** Put a lock in place without the scan, to build large baselines quickly. */
  seedLock(agentId: number, path: string, now: number): void {
    (this.agents.get(agentId) as SeedAgent).lockedPaths.set(path, now + this.ttl);
  }

  tryLock(agentId: number, path: string, now: number): boolean {
    this.reap(now);
    for (const [otherId, other] of this.agents) {
      if (otherId === agentId) continue;
      const expiry = other.lockedPaths.get(path);
      if (expiry !== undefined && expiry > now) return false;
    }
    const agent = this.agents.get(agentId) as SeedAgent;
    agent.lockedPaths.set(path, now + this.ttl);
    agent.lastSeen = now;
    return true;
  }

  releaseLock(agentId: number, path: string): void {
    this.agents.get(agentId)?.lockedPaths.delete(path);
  }

  lockHolder(path: string, now: number): number | null {
    this.reap(now);
    for (const [id, agent] of this.agents) {
      const expiry = agent.lockedPaths.get(path);
      if (expiry !== undefined && expiry > now) return id;
    }
    return null;
  }

  private reap(now: number): void {
    for (const agent of this.agents.values()) {
      if (agent.state === "active" && now - agent.lastSeen > this.timeout) {
        agent.state = "crashed";
        agent.lockedPaths.clear();
      }
    }
  }
}
