import type pg from "pg";
import { describeError, whereOf } from "./pg-connect.js";
import { isAnswer } from "./pg-errors.js";
import { openSession, openWork, type SidecarInfo } from "./pg-session.js";
import { REAP_AFTER_MS, type SchemaNames } from "./pg-sql.js";
import { StoreUnavailableError } from "./store-unavailable.js";

/** How often the session marks the sidecar seen and reaps dead ones. */
const BEAT_MS = 500;
/**
 * A heartbeat unanswered for this many beats means the connection is lost
 * (a silent network). Counted in beats, not ms, so that a stall of this
 * process's event loop does not count.
 */
const BEAT_TIMEOUT_BEATS = 10;
/** Reconnection: the first pause, doubled after each failure up to the last. */
const BACKOFF_FIRST_MS = 100;
/**
 * At most 1 s (not 2 s): after a database restart every sidecar has 3 s
 * from the server's start to come back before it may be reaped.
 */
const BACKOFF_MAX_MS = 1_000;
/** How long one reconnection attempt may take. */
const ATTEMPT_MS = 5_000;

/** The two connections of a sidecar: `work` runs the log's calls and listens, `session` holds its lock and beats. */
export interface Connections {
  work: pg.Client;
  session: pg.Client;
}

/** What a link needs to reconnect. */
export interface LinkOptions {
  config: pg.ClientConfig;
  names: SchemaNames;
  sidecar: SidecarInfo;
  /** The statement that beats, with the sidecar's id as $1. */
  heartbeat: pg.QueryConfig;
  log(line: string): void;
}

/**
 * A sidecar's connections while it runs: calls go one at a time over the
 * work connection, which also listens; the session beats and reaps. When either
 * connection fails both are closed, calls fail at once (not sent), and the
 * pair is opened again with backoff; listeners hear of each change.
 */
export class PgLink {
  private connections: Connections | undefined;
  /** Counts connection pairs: events of an old pair are ignored. */
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Beats since the heartbeat in flight was sent (undefined: none in flight). */
  private beatsWaited: number | undefined;
  private readonly beat: NodeJS.Timeout;
  private reconnecting: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly changeListeners = new Set<() => void>();
  private readonly connectionListeners = new Set<(up: boolean) => void>();
  readonly counts = { reconnects: 0, unknownOutcomes: 0, notifies: 0, reaped: 0 };

  constructor(
    private readonly options: LinkOptions,
    connections: Connections,
  ) {
    this.attach(connections);
    this.beat = setInterval(() => this.heartbeat(), BEAT_MS).unref();
  }

  /** Whether calls can be sent now. */
  get up(): boolean {
    return this.connections !== undefined;
  }

  /**
   * Run `query` (its rows as arrays) on the work connection after the calls
   * before it. Rejects with the server's error when it answered one, else
   * with StoreUnavailableError: `not_sent` when the link was down before the
   * query was sent, `unknown` when it went down after.
   */
  run(query: pg.QueryConfig): Promise<unknown[][]> {
    const result = this.queue.then(() => this.send(query));
    this.queue = result.catch(() => {});
    return result;
  }

  /** Call `listener` when another sidecar appended (or the link came back); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Call `listener` when the link goes down (false) or comes back (true); returns the unsubscribe. */
  onConnection(listener: (up: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** Stop beating and reconnecting; run `last` (if the link is up) after the calls queued; close the connections. */
  async close(last: pg.QueryConfig): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.beat);
    clearTimeout(this.reconnecting);
    if (this.up) await this.run(last).catch(() => {});
    const connections = this.connections;
    this.connections = undefined;
    this.generation++;
    if (connections !== undefined) await Promise.all([connections.work.end(), connections.session.end()]);
  }

  private async send(query: pg.QueryConfig): Promise<unknown[][]> {
    const connections = this.connections;
    if (connections === undefined) throw new StoreUnavailableError("the connection to PostgreSQL is down", "not_sent");
    try {
      return (await connections.work.query({ ...query, rowMode: "array" })).rows;
    } catch (error) {
      if (isAnswer(error)) throw error;
      this.counts.unknownOutcomes++;
      this.lose(connections, error);
      throw new StoreUnavailableError(
        `the connection to PostgreSQL was lost: ${describeError(connections.work, error)}`,
        "unknown",
      );
    }
  }

  private attach(connections: Connections): void {
    const generation = ++this.generation;
    this.connections = connections;
    for (const client of [connections.work, connections.session]) {
      client.on("error", (error) => {
        if (generation === this.generation) this.lose(connections, error);
      });
      client.on("end", () => {
        if (generation === this.generation) this.lose(connections, new Error("the server closed the connection"));
      });
    }
    const me = String(this.options.sidecar.id);
    connections.work.on("notification", (message) => {
      if (message.payload === me) return;
      this.counts.notifies++;
      for (const listener of this.changeListeners) listener();
    });
  }

  private heartbeat(): void {
    const connections = this.connections;
    if (connections === undefined) return;
    if (this.beatsWaited !== undefined) {
      if (++this.beatsWaited >= BEAT_TIMEOUT_BEATS)
        this.lose(connections, new Error(`no answer to a heartbeat in ${BEAT_TIMEOUT_BEATS} beats`));
      return;
    }
    this.beatsWaited = 0;
    const { sidecar, log } = this.options;
    const done = () => {
      if (this.connections === connections) this.beatsWaited = undefined;
    };
    connections.session.query({ ...this.options.heartbeat, values: [sidecar.id], rowMode: "array" }).then(
      (result) => {
        done();
        const reaped = Number(result.rows[0]?.[0]);
        if (reaped > 0) {
          this.counts.reaped += reaped;
          log(`PostgreSQL: reaped ${reaped} sidecar(s) unseen for over ${REAP_AFTER_MS} ms`);
          for (const listener of this.changeListeners) listener();
        }
      },
      (error) => {
        done();
        if (isAnswer(error)) log(`PostgreSQL: a heartbeat failed: ${error.message}`);
        else this.lose(connections, error);
      },
    );
  }

  /** The pair `connections` failed: close it, tell the listeners, and reconnect (once per pair). */
  private lose(connections: Connections, error: unknown): void {
    if (this.connections !== connections) return;
    this.connections = undefined;
    this.generation++;
    this.beatsWaited = undefined;
    for (const client of [connections.work, connections.session]) client.end().catch(() => {});
    const where = whereOf(connections.work);
    this.options.log(`PostgreSQL: lost the connection to ${where} (${describeError(connections.work, error)})`);
    for (const listener of this.connectionListeners) listener(false);
    this.reconnect(Date.now(), BACKOFF_FIRST_MS);
  }

  private reconnect(since: number, pause: number): void {
    this.reconnecting = setTimeout(async () => {
      if (this.closed) return;
      try {
        const connections = await this.open();
        if (this.closed) {
          for (const client of [connections.work, connections.session]) client.end().catch(() => {});
          return;
        }
        this.counts.reconnects++;
        this.attach(connections);
        this.options.log(`PostgreSQL: reconnected after ${Date.now() - since} ms`);
        for (const listener of this.connectionListeners) listener(true);
        for (const listener of this.changeListeners) listener();
      } catch {
        this.reconnect(since, Math.min(pause * 2, BACKOFF_MAX_MS));
      }
    }, pause).unref();
  }

  private async open(): Promise<Connections> {
    const { config, names, sidecar, log } = this.options;
    const deadline = Date.now() + ATTEMPT_MS;
    const { client: session, missing } = await openSession(config, names, sidecar, deadline, false);
    if (missing) log("PostgreSQL: this sidecar was presumed dead while disconnected; its agents were crashed");
    try {
      return { work: await openWork(config, names, deadline, false), session };
    } catch (error) {
      session.end().catch(() => {});
      throw error;
    }
  }
}
