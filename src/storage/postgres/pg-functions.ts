import { escapeLiteral } from "pg";
import { CLOCK_BACKWARDS_STATE, DB_NOW, ENTRY, REAP_AFTER_MS, REFUSED_STATE, type SchemaNames, TAG } from "./pg-sql.js";

const ENTRY_COLUMNS = "seq bigint, t bigint, sidecar bigint, batch bigint, op text, a text";

/** What a batch to put in the log is, as plpgsql expressions. */
interface Batch {
  sidecar: string;
  batch: string;
  ops: string;
  args: string;
  /** The explicit t of a manual clock (null otherwise). */
  manualT: string;
  /** Whether the sidecar's right to append the batch is checked (see `append`). */
  guarded: boolean;
}

/**
 * plpgsql statements that put a batch in the log under the head's row lock
 * (which orders appenders until they commit, so commit order is seq order),
 * all at one time: the db clock (never below the head's), or with the manual
 * clock the explicit t (refused below the head's) or the head's. Sets
 * `v_head` (the new head) and `v_t`; notifies the schema's channel (in the
 * update, to spare a statement: every executor start is a measurable part of
 * an append; a NOTIFY is sent only if the transaction commits).
 *
 * Guarded, the batch is refused (REFUSED_STATE) when `batch_entries` holds
 * the sidecar's batch lock `(ns, -id)` (it is settling a lost append; this
 * must be that append, come late), or, in a later snapshot than the lock's
 * taking, when the sidecar's row is gone (it was reaped) or its `fenced`
 * batch is not below this one (settled already).
 */
function putSql({ s, name, ns }: SchemaNames, clock: "system" | "manual", batch: Batch): string {
  const newT = clock === "system" ? `greatest(${DB_NOW}, t)` : `greatest(coalesce(${batch.manualT}, t), t)`;
  const locked = batch.guarded ? ` and pg_try_advisory_xact_lock_shared(${ns}, -${batch.sidecar}::int)` : "";
  const fenced = batch.guarded
    ? ` where exists (select from ${s}.sidecars where id = ${batch.sidecar} and fenced < ${batch.batch})`
    : "";
  const refused = batch.guarded
    ? `  if not found then
    raise exception using errcode = '${REFUSED_STATE}', message = 'sidecar not registered or batch settled';
  end if;\n`
    : "";
  const backwards =
    clock === "system"
      ? ""
      : `  if v_t <> ${batch.manualT} then
    raise exception using errcode = '${CLOCK_BACKWARDS_STATE}', message = 'clock_backwards', detail = v_t::text;
  end if;\n`;
  return `
  update ${s}.head set seq = seq + cardinality(${batch.ops}), t = ${newT} where id = 1${locked}
    returning seq, t, pg_notify(${escapeLiteral(name)}, ${batch.sidecar}::text)::text into v_head, v_t, v_notified;
${refused}${backwards}  if cardinality(${batch.ops}) = 1 then
    insert into ${s}.log (seq, t, sidecar, batch, op, a)
      select v_head, v_t, ${batch.sidecar}, ${batch.batch}, ${batch.ops}[1], ${batch.args}[1]${fenced};
  else
    insert into ${s}.log (seq, t, sidecar, batch, op, a)
      select v_head - cardinality(${batch.ops}) + i, v_t, ${batch.sidecar}, ${batch.batch},
        ${batch.ops}[i], ${batch.args}[i] from generate_subscripts(${batch.ops}, 1) i${fenced};
  end if;
${refused}`;
}

/**
 * The functions of a new schema, for its clock. Advisory locks are
 * `(ns, id)`: a sidecar's session holds `(ns, id)` for its life; an append
 * holds `(ns, -id)` shared for its transaction, which `batch_entries` takes
 * exclusively to wait out an append still running on a lost connection (an
 * append arriving meanwhile is refused); `(ns, 0)` guards the schema's
 * creation.
 */
export function functionsSql(names: SchemaNames, clock: "system" | "manual"): string {
  const { s, ns } = names;
  const fn = (head: string, body: string) => `create function ${s}.${head} as ${TAG}${body}${TAG};\n`;
  const append = { sidecar: "p_sidecar", batch: "p_batch", ops: "p_ops", args: "p_args", manualT: "p_manual_t" };
  const crash = { sidecar: "p_me", batch: "0", ops: "v_ops", args: "v_args", manualT: "null", guarded: false };
  return [
    // Puts a batch and records its claims. Returns the others' entries after p_after (in no order), each row with
    // the batch's t and the new head (one row of nulls but those when there are none): the caller knows its own.
    // A single entry is inserted without a function scan, and no query runs when there are no others: each
    // executor start is a measurable part of an append.
    fn(
      "append(p_after bigint, p_sidecar bigint, p_batch bigint, p_ops text[], p_args text[], p_claims bigint[], " +
        `p_manual_t bigint) returns table (now bigint, head bigint, ${ENTRY_COLUMNS}) language plpgsql`,
      `
#variable_conflict use_column
declare v_head bigint; v_t bigint; v_notified text;
begin
${putSql(names, clock, { ...append, guarded: true })}
  if cardinality(p_claims) > 0 then
    insert into ${s}.owners (agent_id, sidecar) select unnest(p_claims), p_sidecar
      on conflict (agent_id) do update set sidecar = excluded.sidecar;
  end if;
  if v_head - cardinality(p_ops) > p_after then
    return query select v_t, v_head, ${ENTRY} from ${s}.log l
      where l.seq > p_after and l.seq <= v_head - cardinality(p_ops);
  else
    now := v_t;
    head := v_head;
    return next;
  end if;
end`,
    ),
    fn(
      `batch_entries(p_sidecar bigint, p_batch bigint) returns table (${ENTRY_COLUMNS}) language plpgsql`,
      `
#variable_conflict use_column
begin
  perform pg_advisory_xact_lock(${ns}, -p_sidecar::int);
  update ${s}.sidecars set fenced = greatest(fenced, p_batch) where id = p_sidecar;
  return query select ${ENTRY} from ${s}.log l where l.sidecar = p_sidecar and l.batch = p_batch order by l.seq;
end`,
    ),
    // Takes the sidecar's life lock and (re-)registers it; true when its row was missing (first start, or reaped).
    fn(
      "enter(p_id bigint, p_keep boolean, p_host text, p_pid int) returns boolean language plpgsql",
      `
declare v_inserted boolean;
begin
  perform pg_advisory_lock(${ns}, p_id::int);
  insert into ${s}.sidecars (id, seen_at, keep_agents, started_at, host, pid)
    values (p_id, ${DB_NOW}, p_keep, ${DB_NOW}, p_host, p_pid)
    on conflict (id) do update set seen_at = excluded.seen_at returning xmax = 0 into v_inserted;
  return v_inserted;
end`,
    ),
    // Crashes the agents of every other sidecar unseen for REAP_AFTER_MS whose session is gone; returns how many.
    fn(
      "reap(p_me bigint) returns int language plpgsql",
      `
declare r record; v_ids bigint[]; v_n int := 0; v_now bigint := ${DB_NOW}; v_head bigint; v_t bigint;
  v_notified text; v_ops text[] := array['crashAgents']; v_args text[];
begin
  if v_now - floor(extract(epoch from pg_postmaster_start_time()) * 1000) <= ${REAP_AFTER_MS} then return 0; end if;
  for r in select id, keep_agents from ${s}.sidecars where id <> p_me and seen_at < v_now - ${REAP_AFTER_MS}
      order by id for update skip locked loop
    continue when not pg_try_advisory_xact_lock(${ns}, r.id::int);
    perform from ${s}.head where id = 1 for update;
    select array_agg(agent_id order by agent_id) into v_ids from ${s}.owners where sidecar = r.id;
    if v_ids is not null and not r.keep_agents then
      v_args := array['[' || array_to_json(v_ids)::text || ']'];
${putSql(names, clock, crash)}
    end if;
    delete from ${s}.owners where sidecar = r.id;
    delete from ${s}.sidecars where id = r.id;
    v_n := v_n + 1;
  end loop;
  return v_n;
end`,
    ),
    // Marks the sidecar seen, then reaps; commits asynchronously unless it reaped (seen_at may be lost in a crash).
    fn(
      "heartbeat(p_me bigint) returns int language plpgsql",
      `
declare v_n int;
begin
  update ${s}.sidecars set seen_at = ${DB_NOW} where id = p_me;
  v_n := ${s}.reap(p_me);
  if v_n = 0 then perform set_config('synchronous_commit', 'off', true); end if;
  return v_n;
end`,
    ),
    fn(
      "claim(p_sidecar bigint, p_ids bigint[]) returns void language sql",
      `
insert into ${s}.owners (agent_id, sidecar) select unnest(p_ids), p_sidecar
  on conflict (agent_id) do update set sidecar = excluded.sidecar`,
    ),
    fn(
      "unclaim(p_sidecar bigint, p_ids bigint[]) returns void language sql",
      `delete from ${s}.owners where agent_id = any (p_ids) and sidecar = p_sidecar`,
    ),
    fn(
      "leave(p_sidecar bigint) returns void language sql",
      `delete from ${s}.owners where sidecar = p_sidecar; delete from ${s}.sidecars where id = p_sidecar`,
    ),
    // Stores a snapshot; drops the entries (and snapshots) the previous snapshot covers.
    fn(
      "save_snapshot(p_seq bigint, p_t bigint, p_state text) returns void language plpgsql",
      `
declare v_prev bigint;
begin
  select max(seq) into v_prev from ${s}.snapshots where seq < p_seq;
  insert into ${s}.snapshots (seq, t, state) values (p_seq, p_t, p_state) on conflict (seq) do nothing;
  if v_prev is not null then
    delete from ${s}.log where seq <= v_prev;
    delete from ${s}.snapshots where seq < v_prev;
  end if;
end`,
    ),
  ].join("");
}
