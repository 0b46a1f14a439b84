// A tiny, obviously correct registry: plain maps and linear scans, no
// indexes or heaps. The model-based test checks the real core against it.

export interface ModelAgent {
  name: string;
  state: "active" | "crashed" | "gone";
  lastSeen: number;
  edits: number;
  locks: Map<string, number>;
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

export class ReferenceModel {
  now = 0;
  ttl = 30_000;
  timeout = 45_000;
  nextId = 1;
  agents = new Map<number, ModelAgent>();
  log: ModelChange[] = [];
  seq = 0;

  /** Eager evaluation by brute force: scan every agent and every lock. */
  settle(): number[] {
    const crashed: number[] = [];
    for (const [id, agent] of this.agents) {
      if (agent.state === "active" && this.now - agent.lastSeen > this.timeout) {
        agent.state = "crashed";
        agent.locks.clear();
        crashed.push(id);
      }
      for (const [path, expiry] of agent.locks) if (expiry <= this.now) agent.locks.delete(path);
    }
    return crashed.sort((a, b) => a - b);
  }

  holder(path: string): number | null {
    for (const [id, agent] of this.agents) if (agent.locks.has(path)) return id;
    return null;
  }

  install(id: number, name: string): void {
    this.agents.set(id, { name, state: "active", lastSeen: this.now, edits: 0, locks: new Map() });
    this.nextId = Math.max(this.nextId, id + 1);
  }

  touch(id: number): void {
    const agent = this.agents.get(id) as ModelAgent;
    agent.lastSeen = this.now;
    agent.state = "active";
  }

  tryLock(id: number, path: string, ttl: number): { locked: boolean; holder: number | null } {
    const holder = this.holder(path);
    if (holder !== null && holder !== id) return { locked: false, holder };
    if (!this.agents.has(id)) this.install(id, `agent-${id}`);
    else this.touch(id);
    (this.agents.get(id) as ModelAgent).locks.set(path, this.now + ttl);
    return { locked: true, holder: id };
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
      .map(([id, a]) => ({ id, name: a.name, state: a.state, last_seen_ms: a.lastSeen, edit_count: a.edits, lock_count: a.locks.size }));
  }

  locksView() {
    const out: { path: string; agent_id: number; expires_at_ms: number }[] = [];
    for (const [id, agent] of this.agents) for (const [path, expiry] of agent.locks) out.push({ path, agent_id: id, expires_at_ms: expiry });
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/** The model's path rule, written the plain way. Returns null for a path the registry must reject. */
export function modelNormalize(path: string): string | null {
  if (path === "" || path.includes("\0")) return null;
  const p = path.split("\\").join("/");
  if (p.startsWith("/") || /^[A-Za-z]:(\/|$)/.test(p)) return null;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(part);
  }
  return out.length === 0 ? null : out.join("/");
}
