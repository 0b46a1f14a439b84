import { hostname } from "node:os";
import type pg from "pg";
import { escapeLiteral } from "pg";
import { connectClient } from "./pg-connect.js";
import type { SchemaNames } from "./pg-sql.js";

/**
 * Settings of both connections. Generic plans: the functions' queries are
 * planned once per connection (a custom plan for the exact positions looks
 * cheaper to the planner, and planning again costs more than the whole
 * query). Keepalives: the server probes an idle connection, so that a
 * backend whose client vanished (a lost machine, a half-open connection)
 * ends in about 11 s and frees the sidecar's advisory lock (ignored on a
 * Unix socket).
 */
const SETTINGS =
  "set plan_cache_mode = force_generic_plan; " +
  "set tcp_keepalives_idle = 5; set tcp_keepalives_interval = 2; set tcp_keepalives_count = 3;";

/**
 * The connection that runs the log's calls and listens on the schema's
 * channel: it hears its own appends too (ignored), but at the end of its
 * own transaction, not by waking another backend and another socket.
 */
export async function openWork(
  config: pg.ClientConfig,
  names: SchemaNames,
  deadline: number,
  retry: boolean,
): Promise<pg.Client> {
  const client = await connectClient(config, deadline, retry);
  try {
    await client.query(`${SETTINGS} listen ${names.s};`);
    return client;
  } catch (error) {
    client.end().catch(() => {});
    throw error;
  }
}

/** What is known of the sidecar whose session is opened. */
export interface SidecarInfo {
  id: number;
  keepAgents: boolean;
}

/**
 * The sidecar's session connection, in one round trip once connected: it
 * takes the sidecar's advisory lock (held while the session lives; waits
 * while a reaper holds it) and (re-)inserts its row. `missing`: the row was
 * not there (first start, or the sidecar was reaped while disconnected).
 */
export async function openSession(
  config: pg.ClientConfig,
  names: SchemaNames,
  sidecar: SidecarInfo,
  deadline: number,
  retry: boolean,
): Promise<{ client: pg.Client; missing: boolean }> {
  const client = await connectClient(config, deadline, retry);
  const host = escapeLiteral(hostname());
  const enter = `select ${names.s}.enter(${sidecar.id}, ${sidecar.keepAgents}, ${host}, ${process.pid}) as missing;`;
  try {
    const results = (await client.query(`${SETTINGS} ${enter}`)) as unknown as pg.QueryResult[];
    return { client, missing: results[4]?.rows[0]?.missing === true };
  } catch (error) {
    client.end().catch(() => {});
    throw error;
  }
}
