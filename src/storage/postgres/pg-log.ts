import type pg from "pg";
import { escapeLiteral } from "pg";
import { answerError, isAnswer } from "./pg-errors.js";
import { PgLink } from "./pg-link.js";
import { appendRows, entryOf, safeInt, tailRows } from "./pg-rows.js";
import { ensureSchema } from "./pg-schema.js";
import { openSession, openWork } from "./pg-session.js";
import { logStatements, schemaNames } from "./pg-sql.js";
import { clientConfig } from "./pg-url.js";

export { StoreUnavailableError } from "./store-unavailable.js";

/** One row of the log. `a` is the JSON text of the call's arguments, exactly as journaled. */
export interface LogEntry {
  seq: number;
  t: number;
  sidecar: number;
  /** The sidecar's batch; 0 for the `crashAgents` entry a reaper writes (to be replayed like another's). */
  batch: number;
  op: string;
  a: string;
}
/** The log's last seq and its time. */
export interface Head {
  seq: number;
  t: number;
}
/** A snapshot: the saved state (JSON text) covering every entry up to `seq`. */
export interface SavedRow {
  seq: number;
  t: number;
  state: string;
}

/**
 * The PostgreSQL log of one sidecar: a log of calls ordered by the database,
 * which every sidecar appends to and replays. Each call is one round trip
 * (`load`: two; `close`: one, then the connections close). Calls fail with
 * StoreUnavailableError when the connection is down or was lost during the
 * call; `onConnection` tells when it is back.
 */
export interface PgLog {
  /** This sidecar's id (unique for the database's life, never reused). */
  readonly sidecarId: number;
  /** Newest snapshot (if any) and every entry after it, and the db time. */
  load(): Promise<{ saved?: SavedRow; entries: LogEntry[]; now: number }>;
  /**
   * Append one batch; `claims`: agent ids this batch acts as; `manualT`: explicit t of a clock_set (manual clock
   * only; refused with DomainError clock_backwards when below the log's time). Returns every entry after `after`
   * (own ones last) and the batch's time. Batches must increase (0 is the reaper's): `batchEntries(b)` refuses any
   * later append of a batch up to `b` (StoreUnavailableError not_sent: nothing was written).
   */
  append(
    after: number,
    batch: number,
    entries: { op: string; a: string }[],
    options?: { claims?: readonly number[]; manualT?: number },
  ): Promise<{ entries: LogEntry[]; now: number }>;
  /**
   * Entries after `after` and the db time `greatest(clock, head.t)` (manual: head.t). The first entry's seq is
   * `after + 1` unless compaction removed the entries after `after` (then load again from the newest snapshot).
   */
  tail(after: number): Promise<{ entries: LogEntry[]; now: number }>;
  /**
   * After a reconnect: the entries of (this sidecar, batch), or [] when the batch never committed. Waits for an
   * append of this sidecar still running on a lost connection, and fences the batch off (see `append`).
   */
  batchEntries(batch: number): Promise<LogEntry[]>;
  /** Claim agents for this sidecar (after a register without id). */
  claim(agentIds: readonly number[]): Promise<void>;
  /** Drop this sidecar's claims of agents (unregistered ones). */
  unclaim(agentIds: readonly number[]): Promise<void>;
  /** Store a snapshot covering entries up to `seq`; delete entries up to the previous snapshot's seq. */
  saveSnapshot(row: SavedRow): Promise<void>;
  /**
   * Another sidecar appended (NOTIFY), this one's reaper appended, or the connection came back: catch up. Returns
   * the unsubscribe.
   */
  onChange(listener: () => void): () => void;
  /** Connection state changes (false: lost; true: back). Returns the unsubscribe. */
  onConnection(listener: (up: boolean) => void): () => void;
  /** Stop heartbeat/reaper/listen, delete this sidecar's row (its claims too), close connections. */
  close(): Promise<void>;
  /** Counters: appends, tails, reconnects, unknownOutcomes, notifies (heard from others), reaped (sidecars). */
  stats(): Record<string, number>;
}

/** How to open a log. */
export interface PgLogOptions {
  /** The schema (default `harn_registry`), created on first start. */
  schema?: string;
  /** The sidecar's clock: must be the one the schema was created with. */
  clock: "system" | "manual";
  /** Whether a reaper leaves this sidecar's agents alive when it dies (--keep-agents-on-disconnect). */
  keepAgents: boolean;
  /** Where the log says what happens to its connections (one line each; never a password). */
  log(line: string): void;
  /**
   * How long connecting at start may take, retries of refused connections included (default 8 s: a sidecar that
   * cannot connect exits within 10 s of its start).
   */
  connectTimeoutMs?: number;
}

/** Advisory lock keys are int4: sidecar ids must fit. */
const MAX_SIDECAR_ID = 2 ** 31 - 1;

/**
 * Connect to the database at `url` (libpq URL rules, see clientConfig),
 * create or check the schema, and register a new sidecar. Rejects within
 * `connectTimeoutMs` when the database cannot be reached, with a message
 * naming host:port and the cause (never the password); rejects when the
 * schema is newer than this code or was created for the other clock.
 */
export async function openPgLog(url: string, options: PgLogOptions): Promise<PgLog> {
  const config = clientConfig(url);
  const names = schemaNames(options.schema ?? "harn_registry");
  const deadline = Date.now() + (options.connectTimeoutMs ?? 8_000);
  const work = await openWork(config, names, deadline, true);
  let id: number;
  try {
    await ensureSchema(work, names, options.clock);
    const sequence = escapeLiteral(`${names.s}.sidecar_ids`);
    const result = await work.query({ text: `select nextval(${sequence})`, rowMode: "array" });
    id = safeInt(result.rows[0]?.[0], "a sidecar id");
    if (id > MAX_SIDECAR_ID) throw new Error(`sidecar ids are exhausted (${id}); recreate the schema`);
  } catch (error) {
    await work.end().catch(() => {});
    throw error;
  }
  const sidecar = { id, keepAgents: options.keepAgents };
  const session = await openSession(config, names, sidecar, deadline, true).catch(async (error) => {
    await work.end().catch(() => {});
    throw error;
  });
  const statements = logStatements(names, options.clock);
  const link = new PgLink(
    { config, names, sidecar, heartbeat: statements.heartbeat, log: options.log },
    { work, session: session.client },
  );
  return new PostgresLog(link, statements, id, options.clock);
}

class PostgresLog implements PgLog {
  private readonly counts = { appends: 0, tails: 0 };

  constructor(
    private readonly link: PgLink,
    private readonly statements: ReturnType<typeof logStatements>,
    readonly sidecarId: number,
    private readonly clock: "system" | "manual",
  ) {}

  async load(): Promise<{ saved?: SavedRow; entries: LogEntry[]; now: number }> {
    for (;;) {
      const row = (await this.call(this.statements.snapshot))[0];
      const saved = row && { seq: safeInt(row[0], "a seq"), t: safeInt(row[1], "a time"), state: row[2] as string };
      const tail = await this.tail(saved?.seq ?? 0);
      // Two newer snapshots between the reads would have deleted entries after this one: read again.
      const first = tail.entries[0]?.seq;
      if (first === undefined || first === (saved?.seq ?? 0) + 1)
        return saved === undefined ? tail : { saved, ...tail };
    }
  }

  async append(
    after: number,
    batch: number,
    entries: { op: string; a: string }[],
    options: { claims?: readonly number[]; manualT?: number } = {},
  ): Promise<{ entries: LogEntry[]; now: number }> {
    if (entries.length === 0) throw new Error("an append needs at least one entry");
    if (options.manualT !== undefined && this.clock !== "manual") throw new Error("manualT needs the manual clock");
    this.counts.appends++;
    const claims = options.claims === undefined || options.claims.length === 0 ? null : options.claims;
    const rows = await this.call(
      {
        ...this.statements.append,
        values: [
          after,
          this.sidecarId,
          batch,
          entries.map((entry) => entry.op),
          entries.map((entry) => entry.a),
          claims,
          options.manualT ?? null,
        ],
      },
      options.manualT,
    );
    const { others, now, head } = appendRows(rows);
    const first = head - entries.length + 1;
    const own = entries.map(({ op, a }, i) => ({ seq: first + i, t: now, sidecar: this.sidecarId, batch, op, a }));
    return { entries: [...others, ...own], now };
  }

  async tail(after: number): Promise<{ entries: LogEntry[]; now: number }> {
    this.counts.tails++;
    return tailRows(await this.call({ ...this.statements.tail, values: [after] }));
  }

  async batchEntries(batch: number): Promise<LogEntry[]> {
    const rows = await this.call({ ...this.statements.batchEntries, values: [this.sidecarId, batch] });
    return rows.map((row) => entryOf(row));
  }

  async claim(agentIds: readonly number[]): Promise<void> {
    if (agentIds.length === 0) return;
    await this.call({ ...this.statements.claim, values: [this.sidecarId, agentIds] });
  }

  async unclaim(agentIds: readonly number[]): Promise<void> {
    if (agentIds.length === 0) return;
    await this.call({ ...this.statements.unclaim, values: [this.sidecarId, agentIds] });
  }

  async saveSnapshot(row: SavedRow): Promise<void> {
    await this.call({ ...this.statements.saveSnapshot, values: [row.seq, row.t, row.state] });
  }

  onChange(listener: () => void): () => void {
    return this.link.onChange(listener);
  }

  onConnection(listener: (up: boolean) => void): () => void {
    return this.link.onConnection(listener);
  }

  close(): Promise<void> {
    return this.link.close({ ...this.statements.leave, values: [this.sidecarId] });
  }

  stats(): Record<string, number> {
    return { ...this.counts, ...this.link.counts };
  }

  /** Run a query on the link; the server's refusals become the errors the interface names. */
  private async call(query: pg.QueryConfig, manualT?: number): Promise<unknown[][]> {
    try {
      return await this.link.run(query);
    } catch (error) {
      throw isAnswer(error) ? answerError(error, manualT) : error;
    }
  }
}
