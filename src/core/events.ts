import type { LockMode } from "./lock-table.js";

/** Why a lock stopped being held. */
export type ReleaseReason = "released" | "expired" | "crashed" | "unregistered" | "forced" | "replaced";

/** What happened, without its sequence number. */
export type RegistryEventBody =
  | { type: "lock/granted"; agent_id: number; path: string; mode: LockMode; fence: number; expires_at_ms: number }
  | { type: "lock/released"; agent_id: number; path: string; mode: LockMode; fence: number; reason: ReleaseReason; note?: string }
  | { type: "agent/registered"; agent_id: number; name: string }
  | { type: "agent/crashed"; agent_id: number; released: string[] }
  | { type: "agent/unregistered"; agent_id: number; released: string[] };

/** An event as subscribers see it: `event_seq` strictly increases. */
export type RegistryEvent = RegistryEventBody & { event_seq: number; at_ms: number };

/** How many events `since` can still return. */
export const EVENTS_KEPT = 10_000;

/** Numbers events, keeps the last {@link EVENTS_KEPT} and tells listeners. */
export class EventLog {
  private seq = 0;
  private readonly ring: RegistryEvent[] = [];
  private start = 0;
  private readonly listeners = new Set<(event: RegistryEvent) => void>();

  get latestSeq(): number {
    return this.seq;
  }

  emit(body: RegistryEventBody, atMs: number): void {
    const event = { ...body, event_seq: ++this.seq, at_ms: atMs } as RegistryEvent;
    if (this.ring.length < EVENTS_KEPT) this.ring.push(event);
    else {
      this.ring[this.start] = event;
      this.start = (this.start + 1) % EVENTS_KEPT;
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Kept events with `event_seq > since`, oldest first. */
  since(since: number): RegistryEvent[] {
    const oldest = this.seq - this.ring.length + 1;
    const out: RegistryEvent[] = [];
    for (let seq = Math.max(since + 1, oldest); seq <= this.seq; seq++) {
      out.push(this.ring[(this.start + (seq - oldest)) % this.ring.length] as RegistryEvent);
    }
    return out;
  }

  /** The oldest `event_seq` still kept (latest + 1 when none). */
  get oldestSeq(): number {
    return this.seq - this.ring.length + 1;
  }

  subscribe(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
