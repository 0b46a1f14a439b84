import type pg from "pg";
import { escapeLiteral } from "pg";
import { functionsSql } from "./pg-functions.js";
import { SCHEMA_VERSION, type SchemaNames, tablesSql } from "./pg-sql.js";

/**
 * Make sure the schema exists, at this code's version, for this clock:
 * creates it on first start, in one transaction under an advisory lock, so
 * that sidecars starting together create it once. Throws when the database
 * holds a newer version, or was started with the other clock.
 */
export async function ensureSchema(client: pg.Client, names: SchemaNames, clock: "system" | "manual"): Promise<void> {
  await client.query("begin");
  try {
    await client.query(`select pg_advisory_xact_lock(${names.ns}, 0)`);
    const meta = await readMeta(client, names);
    if (meta === undefined) await client.query(tablesSql(names, clock) + functionsSql(names, clock));
    else checkMeta(meta, names, clock);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
}

async function readMeta(client: pg.Client, names: SchemaNames): Promise<Map<string, string> | undefined> {
  const table = await client.query(`select to_regclass(${escapeLiteral(`${names.s}.meta`)}) is not null as present`);
  if (table.rows[0]?.present !== true) return undefined;
  const rows = await client.query<{ key: string; value: string }>(`select key, value from ${names.s}.meta`);
  return new Map(rows.rows.map((row) => [row.key, row.value]));
}

function checkMeta(meta: Map<string, string>, names: SchemaNames, clock: "system" | "manual"): void {
  const version = Number(meta.get("version"));
  if (!(version <= SCHEMA_VERSION))
    throw new Error(
      `the database's schema ${names.s} is at version ${meta.get("version")}, newer than this harn-registry's ` +
        `version ${SCHEMA_VERSION}: upgrade harn-registry`,
    );
  const recorded = meta.get("clock");
  if (recorded !== clock)
    throw new Error(
      `the registry in schema ${names.s} runs on the ${recorded} clock; this sidecar was started with ` +
        `--clock=${clock}: start it with --clock=${recorded}`,
    );
}
