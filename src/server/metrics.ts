import type { ResultOf } from "../../protocol/methods.js";
import type { RegistryStore } from "../core/store.js";

/** Sub-buckets per power of two in the latency histogram: bucket bounds about 9% apart. */
const STEPS = 8;
const BUCKETS = 40 * STEPS;

/** Journal counters, with durable state (--state). */
export type JournalStats = NonNullable<ResultOf<"metrics">["journal"]>;

/** PostgreSQL state's counters (--state=postgres://…). */
export type PostgresStats = NonNullable<ResultOf<"metrics">["postgres"]>;

/**
 * Server-wide request counters and a log-linear latency histogram (one
 * array of counts, no allocation per request), cheap enough to leave on.
 * `metrics` reports them with the registry's own counters.
 */
export class ServerMetrics {
  private readonly startedAt = Date.now();
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<number, number>();
  private readonly histogram = new Uint32Array(BUCKETS);
  private timed = 0;
  private maxUs = 0;
  /** Open connections: a socket server counts those it serves; stdio has one. */
  connections: () => number = () => 1;

  constructor(
    private readonly store: RegistryStore,
    private readonly journal: () => JournalStats | null,
    private readonly postgres: () => PostgresStats | null = () => null,
  ) {}

  /** A request of a known method has arrived. */
  request(method: string): void {
    this.requests.set(method, (this.requests.get(method) ?? 0) + 1);
  }

  /** An error answer with this code. */
  error(code: number): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** How long a request took in the server, from `performance.now()` at its start. */
  took(startMs: number): void {
    const us = (performance.now() - startMs) * 1000;
    const bucket = us < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log2(us) * STEPS));
    this.histogram[bucket] = (this.histogram[bucket] as number) + 1;
    this.timed++;
    if (us > this.maxUs) this.maxUs = us;
  }

  report(): ResultOf<"metrics"> {
    return {
      uptime_ms: Date.now() - this.startedAt,
      requests: countsByKey([...this.requests].sort(([a], [b]) => (a < b ? -1 : 1))),
      errors: countsByKey([...this.errors].sort(([a], [b]) => a - b).map(([code, count]) => [String(code), count])),
      latency_us: {
        count: this.timed,
        p50: this.percentile(0.5),
        p90: this.percentile(0.9),
        p99: this.percentile(0.99),
        max: Math.ceil(this.maxUs),
      },
      ...this.store.stats(),
      connections: this.connections(),
      journal: this.journal(),
      postgres: this.postgres(),
    };
  }

  /** The upper bound of the bucket holding the q-th request, in whole µs. */
  private percentile(q: number): number {
    if (this.timed === 0) return 0;
    const rank = Math.ceil(q * this.timed);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.histogram[bucket] as number;
      if (seen >= rank) return bucket === 0 ? 1 : Math.min(Math.ceil(this.maxUs), Math.ceil(2 ** (bucket / STEPS)));
    }
    return Math.ceil(this.maxUs);
  }
}

/**
 * Counts keyed by method name or error code, in an object without a prototype (a key is data, never an inherited
 * member).
 */
function countsByKey(entries: [string, number][]): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const [key, count] of entries) out[key] = count;
  return out;
}
