import type { RegistryEvent, RegistryEventBody } from "../../protocol/events.js";

export type { RegistryEvent, RegistryEventBody };
export type { ReleaseReason } from "../../protocol/events.js";

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
