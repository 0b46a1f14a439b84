import { escapeIdentifier, escapeLiteral } from "pg";

/** The version of the schema this code creates and reads; a database at a newer one is refused. */
export const SCHEMA_VERSION = 1;

/** How long a sidecar may go unseen (ms, db clock) before another may reap it; also the grace after a db start. */
export const REAP_AFTER_MS = 3_000;

/** SQLSTATE raised by an append whose manual `t` is below the log's. */
export const CLOCK_BACKWARDS_STATE = "HR001";
/** SQLSTATE raised by `append` for a sidecar that is not registered, or a batch `batch_entries` settles or settled. */
export const REFUSED_STATE = "HR002";

/** The dollar quote of the functions' bodies. */
export const TAG = "$harn$";

/** Names used in the SQL of one schema. */
export interface SchemaNames {
  /** The schema's name, which is also the NOTIFY channel. */
  name: string;
  /** The schema, quoted as an identifier. */
  s: string;
  /** The first key of every advisory lock of this schema (a hash of its name). */
  ns: number;
}

/** The names for schema `schema`. Throws when the name could not be put in the SQL safely. */
export function schemaNames(schema: string): SchemaNames {
  if (schema === "" || schema.includes(TAG) || schema.includes("\0"))
    throw new Error(`the schema name ${JSON.stringify(schema)} is not usable`);
  return { name: schema, s: escapeIdentifier(schema), ns: fnv1a(schema) };
}

/** 32-bit FNV-1a of a string's UTF-16 units, as a signed int4. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/**
 * The tables of a new schema. `meta` holds `version` and `clock`; `head` the
 * last seq and its t; `log` the entries; `sidecars` the live sidecars (with
 * `fenced`: the highest batch `batch_entries` has settled, which `append`
 * refuses from then on); `owners` which sidecar each claimed agent belongs to.
 */
export function tablesSql({ s }: SchemaNames, clock: "system" | "manual"): string {
  return `
create schema if not exists ${s};
create table ${s}.meta (key text primary key, value text not null);
insert into ${s}.meta values ('version', '${SCHEMA_VERSION}'), ('clock', ${escapeLiteral(clock)});
create table ${s}.head (id int primary key, seq bigint not null, t bigint not null);
insert into ${s}.head values (1, 0, 0);
create table ${s}.log (seq bigint primary key, t bigint not null, sidecar bigint not null, batch bigint not null,
  op text not null, a text not null);
create index on ${s}.log (sidecar, batch);
create table ${s}.snapshots (seq bigint primary key, t bigint not null, state text not null);
create sequence ${s}.sidecar_ids;
create table ${s}.sidecars (id bigint primary key, seen_at bigint not null, keep_agents boolean not null,
  started_at bigint not null, host text not null, pid int not null, fenced bigint not null default 0);
create table ${s}.owners (agent_id bigint primary key, sidecar bigint not null);
create index on ${s}.owners (sidecar);
`;
}

/** The columns of an entry of the log `l`, in LogEntry's order. */
export const ENTRY = "l.seq, l.t, l.sidecar, l.batch, l.op, l.a";
/** The database's clock in ms. */
export const DB_NOW = "floor(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * The log's statements, each prepared once per connection under its name.
 * `tail` reads the entries after $1 (in no order) and the time (the first
 * column of every row; one row of nulls but the time when there is none).
 * It is a query rather than a function, which costs the server about a
 * third more. One statement, so one snapshot: the time is at least the t of
 * every entry read. The range's upper bound keeps the plan on the index
 * whatever the table's statistics say.
 */
export function logStatements(names: SchemaNames, clock: "system" | "manual") {
  const { s } = names;
  const now = clock === "system" ? `greatest(${DB_NOW}, h.t)` : "h.t";
  const statement = (name: string, text: string) => ({ name: `harn_${name}`, text });
  return {
    append: statement("append", `select * from ${s}.append($1, $2, $3, $4, $5, $6, $7)`),
    tail: statement(
      "tail",
      `select ${now}, ${ENTRY} from ${s}.head h left join ${s}.log l on l.seq > $1 and l.seq <= h.seq where h.id = 1`,
    ),
    snapshot: statement("snapshot", `select seq, t, state from ${s}.snapshots order by seq desc limit 1`),
    batchEntries: statement("batch_entries", `select * from ${s}.batch_entries($1, $2)`),
    claim: statement("claim", `select ${s}.claim($1, $2)`),
    unclaim: statement("unclaim", `select ${s}.unclaim($1, $2)`),
    saveSnapshot: statement("save_snapshot", `select ${s}.save_snapshot($1, $2, $3)`),
    leave: statement("leave", `select ${s}.leave($1)`),
    heartbeat: statement("heartbeat", `select ${s}.heartbeat($1)`),
  };
}
