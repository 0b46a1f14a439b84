import { DomainError } from "../../core/errors.js";
import type { ResultOf } from "../../../protocol/methods.js";
import { type Registry, type RegistryOptions, processOptionsOf } from "../../core/registry.js";
import type { AcquireInput, RegistryStore, ServedStore } from "../../core/store.js";
import { type PreparedChange, prepareChange } from "../entries.js";
import { type JournaledOp, type ReadOp, STORE_OPS, type StoreApi, journalName } from "../store-ops.js";
import { AGENT_OF } from "./agent-of.js";
import { isRetryableConnect } from "./pg-errors.js";
import { type PgClock, pgClock } from "./pg-clock.js";
import { type LogEntry, type PgLog, StoreUnavailableError, type openPgLog } from "./pg-log.js";
import { Replica } from "./replica.js";

/** PostgreSQL state's counters, as `metrics` reports them. */
type PostgresStats = NonNullable<ResultOf<"metrics">["postgres"]>;

/** By default a snapshot row is written every this many entries. */
export const COMPACT_EVERY = 10_000;

/** Options of {@link openPgState}. */
export interface PgStateOptions {
  url: string;
  clock: "system" | "manual";
  /** Registry options; `now` is ignored (the database's clock is the authority). */
  registry: RegistryOptions;
  /** Leave this sidecar's agents live when it closes (--keep-agents-on-disconnect). */
  keepAgents: boolean;
  log(line: string): void;
  onFatal(error: Error): void;
  /**
   * Write a snapshot row every this many entries (default COMPACT_EVERY): the sidecar whose entry has a seq that is a
   * multiple of it writes one.
   */
  compactEvery?: number;
  /** The log to use (tests): by default the PostgreSQL log at `url`. */
  openLog?: typeof openPgLog;
}

/** A call waiting for its round. */
interface Call {
  kind: "change" | "read";
  op: JournaledOp | ReadOp;
  args: unknown[];
  /** clock_set's time, carried by its tick. */
  manualT?: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A change of a round, prepared against the replica. */
interface Prepared {
  call: Call;
  prepared: PreparedChange;
}

/** What openPgState opens: see the design in README (One registry across machines). */
export interface PgState {
  /** Every change and read: one round trip (batched with the calls that arrive meanwhile). */
  readonly store: ServedStore;
  /** The replica, read synchronously: what this sidecar knows now. */
  readonly view: RegistryStore;
  readonly clock: PgClock;
  readonly recovered: { seq: number; entries: number; snapshotSeq: number | null };
  /** The counters `metrics` reports under `postgres`. */
  stats(): PostgresStats;
  /** Call `listener` after every round that applied entries (the deadline timer re-arms: the next deadline moved). */
  onApplied(listener: (restored: boolean) => void): void;
  /** Answer what is queued, crash this sidecar's live agents (unless keepAgents), leave the database. */
  close(): Promise<void>;
}

/** The most calls one round trip carries (the rest wait for the next). */
const ROUND_CALLS = 1_000;

/** How long a start may keep retrying a connection that drops while it opens (a database restarting). */
const START_RETRY_MS = 8_000;

/**
 * Open the registry kept in PostgreSQL at `options.url` (see {@link PgState}).
 * A connection lost while opening (the database restarting) is retried
 * for START_RETRY_MS; an unreachable database fails within the log's
 * connect timeout.
 */
export async function openPgState(options: PgStateOptions): Promise<PgState> {
  const open = options.openLog ?? (await import("./pg-log.js")).openPgLog;
  const deadline = Date.now() + START_RETRY_MS;
  for (;;) {
    let log: PgLog | undefined;
    try {
      const { clock, keepAgents } = options;
      const connectTimeoutMs = Math.max(500, deadline - Date.now());
      log = await open(options.url, { clock, keepAgents, log: options.log, connectTimeoutMs });
      const state = new PgRegistry(log, options, await log.load());
      await state.start(options);
      return state;
    } catch (error) {
      await log?.close().catch(() => {});
      if (!droppedWhileOpening(error) || Date.now() + 500 > deadline) throw error;
      options.log(`the connection dropped while opening the state (${(error as Error).message}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * A failure of the connection itself (not of the database's answer), which a new connection may not meet: the log
 * layer's own test of one (isRetryableConnect), or a call it answered as unavailable.
 */
function droppedWhileOpening(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (error instanceof DomainError && error.kind === "store_unavailable") return true;
  return isRetryableConnect(error);
}

/**
 * The registry on a PostgreSQL log (see the design in README): each change
 * is appended to the log as a call and applied to the replica once the
 * database has ordered it; each read runs on the replica once it has caught
 * up. One round trip at a time: the calls that arrive meanwhile go together
 * in the next.
 */
class PgRegistry implements PgState {
  readonly store: ServedStore;
  readonly view: RegistryStore;
  readonly clock: PgClock;
  readonly recovered: { seq: number; entries: number; snapshotSeq: number | null };
  private readonly replica: Replica;
  private queue: Call[] = [];
  private running: Promise<void> = Promise.resolve();
  private active = false;
  private behind = false;
  private down = false;
  private closed = false;
  private batch = 0;
  private readonly owned = new Set<number>();
  private unclaimed: number[] = [];
  private compacting: Promise<void> | undefined;
  private readonly appliedListeners: ((restored: boolean) => void)[] = [];
  private readonly counts = { rounds: 0, appends: 0, tails: 0, ticks: 0, unavailable: 0 };

  constructor(
    private readonly log: PgLog,
    private readonly options: PgStateOptions,
    loaded: Awaited<ReturnType<PgLog["load"]>>,
  ) {
    this.clock = pgClock(options.clock, () => this.replica.time);
    this.clock.observe(loaded.now);
    // The log is the one source of the process options (lock-delay, limits): the replica starts from the defaults and
    // takes them from its entries; start() appends this sidecar's when they differ from the log's.
    this.replica = new Replica(loaded.saved, { now: options.registry.now });
    for (const row of loaded.entries) this.replica.replay(row);
    this.recovered = {
      seq: this.replica.position,
      entries: loaded.entries.length,
      snapshotSeq: loaded.saved?.seq ?? null,
    };
    const registry = this.replica.registry;
    this.view = registry;
    const store: Record<string, unknown> = {};
    for (const [name, kind] of Object.entries(STORE_OPS)) {
      const member = registry[name as keyof StoreApi] as unknown;
      if (kind === "change") store[name] = (...args: unknown[]) => this.call("change", name as JournaledOp, args);
      else if (kind === "read") store[name] = (...args: unknown[]) => this.call("read", name as ReadOp, args);
      else store[name] = typeof member === "function" ? member.bind(registry) : member;
    }
    store.now = this.clock.now;
    this.store = store as unknown as ServedStore;
    log.onChange(() => this.catchUp());
    log.onConnection((up) => {
      this.down = !up;
      if (up) this.catchUp();
      else for (const call of this.queue.splice(0)) call.reject(notApplied(call.op, "the connection is down"));
    });
  }

  /** Record this process's lock-delay and limits, when the log holds others. */
  async start({ registry }: PgStateOptions): Promise<void> {
    const wanted = processOptionsOf(registry);
    if (JSON.stringify(wanted) !== JSON.stringify(this.replica.registry.processOptions()))
      await this.call("change", "setProcessOptions", [wanted]);
  }

  onApplied(listener: (restored: boolean) => void): void {
    this.appliedListeners.push(listener);
  }

  stats(): PostgresStats {
    const log = this.log.stats();
    return {
      seq: this.replica.position,
      applied: this.replica.applied,
      round_trips: this.counts.rounds,
      appends: this.counts.appends,
      ticks: this.counts.ticks,
      unavailable: this.counts.unavailable,
      reconnects: log.reconnects ?? 0,
      unknown_outcomes: log.unknownOutcomes ?? 0,
      notifies: log.notifies ?? 0,
      reaped: log.reaped ?? 0,
    };
  }

  async close(): Promise<void> {
    while (this.active) await this.running;
    if (!this.options.keepAgents) {
      const live = [...this.owned].filter((id) => this.replica.registry.agentState(id) === "active");
      if (live.length > 0) {
        await this.call("change", "crashAgents", [live]).catch((error: unknown) =>
          this.options.log(`could not crash this sidecar's agents ${live.join(", ")}: ${(error as Error).message}`),
        );
      }
    }
    this.closed = true;
    await this.compacting;
    await this.log.close();
  }

  private call(kind: Call["kind"], op: JournaledOp | ReadOp, args: unknown[]): Promise<unknown> {
    if (this.closed || this.down) {
      this.counts.unavailable++;
      return Promise.reject(notApplied(op, this.closed ? "the sidecar is closing" : "the connection is down"));
    }
    return new Promise((resolve, reject) => {
      const manualT = kind === "change" && op === "tick" ? this.clock.takeSetTime() : undefined;
      this.queue.push({ kind, op, args, manualT, resolve, reject });
      this.kick();
    });
  }

  /** Another sidecar appended, or the connection is back: apply what the log holds now. */
  private catchUp(): void {
    this.behind = true;
    this.kick();
  }

  private kick(): void {
    if (this.active) return;
    this.active = true;
    this.running = this.run().catch((error: unknown) => this.options.onFatal(error as Error));
  }

  /** Rounds until nothing is queued; `active` is cleared in the same turn as the last check, so no call is missed. */
  private async run(): Promise<void> {
    try {
      await Promise.resolve();
      while (!this.down && (this.queue.length > 0 || this.behind)) {
        this.behind = false;
        this.counts.rounds++;
        await this.round(this.takeRound());
      }
    } finally {
      this.active = false;
    }
  }

  /**
   * The calls of the next round, in order: every queued call up to
   * ROUND_CALLS, except that a clock_set's tick (its own time) goes in a
   * round of its own changes.
   */
  private takeRound(): Call[] {
    let changes = 0;
    let manual = false;
    let end = 0;
    for (; end < this.queue.length && end < ROUND_CALLS; end++) {
      const call = this.queue[end] as Call;
      if (call.kind !== "change") continue;
      if (changes > 0 && (manual || call.manualT !== undefined)) break;
      manual ||= call.manualT !== undefined;
      changes++;
    }
    return this.queue.splice(0, end);
  }

  private async round(calls: Call[]): Promise<void> {
    const changes: Prepared[] = [];
    for (const call of calls) {
      if (call.kind !== "change") continue;
      try {
        changes.push({
          call,
          prepared: prepareChange(this.replica.registry, call.op as JournaledOp, call.args as never),
        });
      } catch (error) {
        call.reject(error);
      }
    }
    const prepared = new Set(changes.map((change) => change.call));
    const live = calls.filter((call) => call.kind === "read" || prepared.has(call));
    let rows: LogEntry[];
    let now: number;
    let batch: number | undefined;
    try {
      if (changes.length > 0) {
        batch = ++this.batch;
        ({ entries: rows, now } = await this.appendRound(batch, changes));
      } else {
        this.counts.tails++;
        ({ entries: rows, now } = await this.log.tail(this.replica.position));
        if (live.length > 0 && this.dueBy(now)) {
          // A read would apply a deadline the log has not reached: a tick puts it in the log first.
          this.counts.ticks++;
          this.queue.unshift(this.internalTick(), ...live);
          for (const row of rows) this.replica.replay(row);
          return;
        }
      }
    } catch (error) {
      if (error instanceof DomainError) {
        // Refused by the log itself (a clock_set behind the log's time): the changes fail, the reads go on.
        for (const { call } of changes) call.reject(error);
        this.queue.unshift(...live.filter((call) => call.kind === "read"));
        return;
      }
      if (!(error instanceof StoreUnavailableError)) {
        // The database answered with an error (a bug here or there): nothing was applied; the calls fail as internal.
        for (const call of live) call.reject(new Error(`the database refused the call: ${(error as Error).message}`));
        return;
      }
      const outcome = await this.settleFailure(error, batch);
      if (outcome === undefined) {
        for (const call of live) call.reject(notApplied(call.op, error.message));
        return;
      }
      ({ entries: rows, now } = outcome);
    }
    this.clock.observe(now);
    await this.applyRound(live, changes, rows, batch);
    const restored = rows.some((row) => row.op === "restore");
    for (const listener of this.appliedListeners) listener(restored);
  }

  private appendRound(batch: number, changes: Prepared[]): Promise<{ entries: LogEntry[]; now: number }> {
    this.counts.appends++;
    const claims = new Set<number>(this.unclaimed.splice(0));
    for (const { call } of changes) {
      const agent = AGENT_OF[call.op as JournaledOp]?.(call.args);
      if (typeof agent === "number" && Number.isSafeInteger(agent) && agent > 0) claims.add(agent);
    }
    for (const id of claims) this.owned.add(id);
    const manualT = changes[0]?.call.manualT;
    const entries = changes.map(({ call, prepared }) => ({
      op: journalName(call.op as JournaledOp),
      a: JSON.stringify(prepared.journaled.map((arg) => (arg === undefined ? null : arg))),
    }));
    return this.log.append(this.replica.position, batch, entries, { claims: [...claims], manualT });
  }

  /**
   * A round's round trip failed. Not sent: nothing happened. Outcome
   * unknown: wait for the connection, then read the log, which holds the
   * batch or not. Returns the log's rows after the position when the batch
   * was committed (its calls are answered as usual), else undefined (each
   * call is answered with the failure).
   */
  private async settleFailure(
    error: StoreUnavailableError,
    batch: number | undefined,
  ): Promise<{ entries: LogEntry[]; now: number } | undefined> {
    this.counts.unavailable++;
    if (error.outcome !== "unknown" || batch === undefined) return undefined;
    for (;;) {
      await this.connected();
      try {
        const committed = (await this.log.batchEntries(batch)).length > 0;
        const tail = await this.log.tail(this.replica.position);
        if (committed) return tail;
        for (const row of tail.entries) this.replica.replay(row);
        return undefined;
      } catch (again) {
        if (!(again instanceof StoreUnavailableError)) throw again;
      }
    }
  }

  private connected(): Promise<void> {
    if (!this.down) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.log.onConnection((up) => {
        if (!up) return;
        stop();
        resolve();
      });
    });
  }

  /**
   * Apply the rows (others' entries first, then this round's own, in the
   * order of its changes) and answer the calls in order: a change with what
   * its entry did, a read with what the replica says at the round's time.
   * One call per macrotask: between two, the server answers the first and
   * reads what this process knows (see ServedStore), which must not show
   * the second yet.
   */
  private async applyRound(
    calls: Call[],
    changes: Prepared[],
    rows: LogEntry[],
    batch: number | undefined,
  ): Promise<void> {
    const me = this.log.sidecarId;
    const isOwn = (row: LogEntry) => batch !== undefined && row.sidecar === me && row.batch === batch;
    let next = 0;
    for (; next < rows.length && !isOwn(rows[next] as LogEntry); next++) this.replica.replay(rows[next] as LogEntry);
    // Reads run at the log's time, never at the database's clock beyond it: an entry the log orders before this
    // moment may still carry an earlier time, and the registry must not have settled past it (a read that needs a
    // later time has appended a tick first, see round).
    const time = next < rows.length ? (rows[next] as LogEntry).t : this.replica.time;
    const registry = this.replica.registry;
    const read = (call: Call) =>
      (registry[call.op as ReadOp] as (...args: unknown[]) => unknown).apply(registry, call.args);
    const prepared = new Map(changes.map((change) => [change.call, change.prepared]));
    const created: number[] = [];
    for (const [index, call] of calls.entries()) {
      if (index > 0) await macrotask();
      if (call.kind === "read") {
        this.answer(call, () => this.replica.at(time, () => read(call)));
        continue;
      }
      const change = prepared.get(call) as PreparedChange;
      const row = rows[next++];
      if (row === undefined || !isOwn(row))
        throw new Error(`the log returned no entry for ${call.op} of batch ${batch}`);
      this.answer(call, () => {
        const result = this.replica.own(row, () => applyOwn(registry, call, change.journaled));
        if (call.op === "register" && typeof result === "number") created.push(result);
        return result;
      });
    }
    for (; next < rows.length; next++) this.replica.replay(rows[next] as LogEntry);
    if (created.length > 0) this.claim(created);
    if (
      batch !== undefined &&
      rows.some((row) => isOwn(row) && row.seq % (this.options.compactEvery ?? COMPACT_EVERY) === 0)
    )
      this.compact();
  }

  private answer(call: Call, run: () => unknown): void {
    try {
      call.resolve(run());
    } catch (error) {
      call.reject(error);
    }
  }

  /** Claim agents registered without an id (their id was known only once applied); retried with the next append. */
  private claim(ids: number[]): void {
    for (const id of ids) this.owned.add(id);
    this.log.claim(ids).catch(() => this.unclaimed.push(...ids));
  }

  /** Whether a deadline of the replica falls after the log's time and by `now`. */
  private dueBy(now: number): boolean {
    const due = this.replica.registry.nextDeadline();
    return due !== undefined && due <= now && now > this.replica.time;
  }

  private internalTick(): Call {
    return { kind: "change", op: "tick", args: [], resolve: () => {}, reject: () => {} };
  }

  private compact(): void {
    if (this.compacting !== undefined) return;
    const row = this.replica.saved();
    this.compacting = this.log
      .saveSnapshot(row)
      .then(() => this.options.log(`snapshot at seq ${row.seq} written`))
      .catch((error: unknown) =>
        this.options.log(`snapshot at seq ${row.seq} not written: ${(error as Error).message}`),
      )
      .finally(() => (this.compacting = undefined));
  }
}

/**
 * Apply this sidecar's own entry as every other replica applies it (the journaled arguments, against the state the
 * log has reached: a restore is normalised then, not when it was sent), with the call's real wait callback.
 */
function applyOwn(registry: Registry, call: Call, journaled: unknown[]): unknown {
  if (call.op === "acquire") return registry.acquire(journaled[0] as AcquireInput, call.args[1] as never);
  return (registry[call.op as JournaledOp] as (...args: unknown[]) => unknown)(...journaled);
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The store_unavailable answer of a call that was not applied. */
function notApplied(op: string, why: string): DomainError {
  return new DomainError(
    "store_unavailable",
    `the PostgreSQL state could not be reached (${why}); the call (${op}) was not applied`,
  );
}
