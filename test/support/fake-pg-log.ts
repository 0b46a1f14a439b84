// An in-memory stand-in for the PostgreSQL log, with the same ordering
// contract (one head, a gapless seq, one t per append, never behind the
// head's), answering each call on a later macrotask like a round trip, and
// with faults to inject: the store layer's tests run against it without a
// database. The real log has its own tests (test/storage/postgres-log.test.ts).
import { DomainError } from "../../src/core/errors.js";
import { type LogEntry, type PgLog, type SavedRow, StoreUnavailableError } from "../../src/storage/postgres/pg-log.js";

/** What a failing call does: never reaches the database, or is lost on the way back (committed or not). */
export type Fault = "not_sent" | "lost_after_commit" | "lost_before_commit";

/** One database many fake logs share. */
export class FakeDatabase {
  readonly rows: LogEntry[] = [];
  readonly snapshots: SavedRow[] = [];
  readonly owners = new Map<number, number>();
  head = { seq: 0, t: 0 };
  /** The database's clock (system kind). */
  clock = 1_000;
  private sidecars = 0;
  private readonly logs = new Set<FakePgLog>();
  private faults: Fault[] = [];

  constructor(readonly kind: "system" | "manual" = "system") {}

  open(): FakePgLog {
    const log = new FakePgLog(this, ++this.sidecars);
    this.logs.add(log);
    return log;
  }

  /** The next call of any log fails this way. */
  failNext(fault: Fault): void {
    this.faults.push(fault);
  }

  /** Every log's connection goes down (true) or comes back (false). */
  setDown(down: boolean): void {
    for (const log of this.logs) log.setUp(!down);
  }

  takeFault(): Fault | undefined {
    return this.faults.shift();
  }

  now(): number {
    return this.kind === "manual" ? this.head.t : Math.max(this.clock, this.head.t);
  }

  append(sidecar: number, batch: number, entries: { op: string; a: string }[], manualT?: number): void {
    if (manualT !== undefined && manualT < this.head.t)
      throw new DomainError("clock_backwards", `now_ms ${manualT} is before the log's time ${this.head.t}`);
    const t = this.kind === "manual" ? (manualT ?? this.head.t) : Math.max(this.clock, this.head.t);
    for (const { op, a } of entries) this.rows.push({ seq: ++this.head.seq, t, sidecar, batch, op, a });
    this.head.t = t;
    for (const log of this.logs) log.notify(sidecar);
  }

  after(seq: number): LogEntry[] {
    const first = this.rows.findIndex((row) => row.seq > seq);
    return first === -1 ? [] : this.rows.slice(first);
  }

  forget(log: FakePgLog): void {
    this.logs.delete(log);
  }
}

/** A round trip: the answer comes on a later macrotask. */
const trip = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One sidecar's log on a {@link FakeDatabase}. */
export class FakePgLog implements PgLog {
  private readonly changeListeners: (() => void)[] = [];
  private readonly connectionListeners: ((up: boolean) => void)[] = [];
  private up = true;
  readonly counts = { appends: 0, tails: 0 };

  constructor(
    private readonly db: FakeDatabase,
    readonly sidecarId: number,
  ) {}

  async load(): Promise<{ saved?: SavedRow; entries: LogEntry[]; now: number }> {
    await trip();
    const saved = this.db.snapshots.at(-1);
    return { saved, entries: this.db.after(saved?.seq ?? 0), now: this.db.now() };
  }

  async append(
    after: number,
    batch: number,
    entries: { op: string; a: string }[],
    options: { claims?: readonly number[]; manualT?: number } = {},
  ): Promise<{ entries: LogEntry[]; now: number }> {
    this.counts.appends++;
    const fault = this.fault();
    await trip();
    if (fault === "lost_before_commit") throw this.lost();
    this.db.append(this.sidecarId, batch, entries, options.manualT);
    for (const id of options.claims ?? []) this.db.owners.set(id, this.sidecarId);
    if (fault === "lost_after_commit") throw this.lost();
    return { entries: this.db.after(after), now: this.db.now() };
  }

  async tail(after: number): Promise<{ entries: LogEntry[]; now: number }> {
    this.counts.tails++;
    const fault = this.fault();
    await trip();
    if (fault !== undefined) throw this.lost();
    return { entries: this.db.after(after), now: this.db.now() };
  }

  async batchEntries(batch: number): Promise<LogEntry[]> {
    await trip();
    return this.db.rows.filter((row) => row.sidecar === this.sidecarId && row.batch === batch);
  }

  async claim(agentIds: readonly number[]): Promise<void> {
    await trip();
    for (const id of agentIds) this.db.owners.set(id, this.sidecarId);
  }

  async saveSnapshot(row: SavedRow): Promise<void> {
    await trip();
    const previous = this.db.snapshots.at(-1)?.seq ?? 0;
    this.db.snapshots.push(row);
    this.db.rows.splice(0, this.db.rows.filter((each) => each.seq <= previous).length);
  }

  async unclaim(agentIds: readonly number[]): Promise<void> {
    await trip();
    for (const id of agentIds) if (this.db.owners.get(id) === this.sidecarId) this.db.owners.delete(id);
  }

  onChange(listener: () => void): () => void {
    return subscribe(this.changeListeners, listener);
  }

  onConnection(listener: (up: boolean) => void): () => void {
    return subscribe(this.connectionListeners, listener);
  }

  async close(): Promise<void> {
    this.db.forget(this);
  }

  stats(): Record<string, number> {
    return { ...this.counts };
  }

  /** Another log appended: tell the listeners on a later macrotask, as NOTIFY would. */
  notify(from: number): void {
    if (from === this.sidecarId) return;
    setImmediate(() => {
      for (const listener of this.changeListeners) listener();
    });
  }

  setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    for (const listener of [...this.connectionListeners]) listener(up);
  }

  private fault(): Exclude<Fault, "not_sent"> | undefined {
    const fault = this.up ? this.db.takeFault() : "not_sent";
    if (fault === "not_sent") throw new StoreUnavailableError("connection refused", "not_sent");
    return fault;
  }

  private lost(): StoreUnavailableError {
    return new StoreUnavailableError("the connection was lost during the call", "unknown");
  }
}

/** Add `listener` to `list`; returns its removal. */
function subscribe<L>(list: L[], listener: L): () => void {
  list.push(listener);
  return () => {
    const at = list.indexOf(listener);
    if (at !== -1) list.splice(at, 1);
  };
}
