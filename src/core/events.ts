import type { RegistryEvent, RegistryEventBody } from "../../protocol/events.js";

export type { RegistryEvent, RegistryEventBody };
export type { ReleaseReason } from "../../protocol/events.js";

/** How many events `since` can still return. */
export const EVENTS_KEPT = 10_000;

/**
 * Numbers events, keeps the last {@link EVENTS_KEPT} and tells listeners.
 * The kept events are stored as their bodies plus two number columns; an
 * event object is stamped only when someone reads it, so a busy registry
 * does not keep 10,000 freshly stamped objects alive for the collector.
 */
export class EventLog {
  private seq = 0;
  private readonly bodies: (RegistryEventBody | undefined)[] = new Array(EVENTS_KEPT);
  private readonly at = new Float64Array(EVENTS_KEPT);
  private readonly listeners = new Set<(event: RegistryEvent) => void>();

  get latestSeq(): number {
    return this.seq;
  }

  /** The oldest `event_seq` still kept (latest + 1 when none). */
  get oldestSeq(): number {
    return Math.max(1, this.seq - EVENTS_KEPT + 1);
  }

  emit(body: RegistryEventBody, atMs: number): void {
    const seq = ++this.seq;
    const slot = seq % EVENTS_KEPT;
    this.bodies[slot] = body;
    this.at[slot] = atMs;
    if (this.listeners.size === 0) return;
    const event = stamp(body, seq, atMs);
    for (const listener of this.listeners) listener(event);
  }

  /** Kept events with `event_seq > since`, oldest first. */
  since(since: number): RegistryEvent[] {
    const out: RegistryEvent[] = [];
    for (let seq = Math.max(since + 1, this.oldestSeq); seq <= this.seq; seq++) {
      const slot = seq % EVENTS_KEPT;
      out.push(stamp(this.bodies[slot] as RegistryEventBody, seq, this.at[slot] as number));
    }
    return out;
  }

  subscribe(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function stamp(body: RegistryEventBody, seq: number, atMs: number): RegistryEvent {
  return { ...body, event_seq: seq, at_ms: atMs } as RegistryEvent;
}
