import type { LogEntry } from "./pg-log.js";

/** A bigint column (text from the server) as a number; throws when it is not a safe integer. */
export function safeInt(text: unknown, what: string): number {
  const value = Number(text);
  if (typeof text !== "string" || !Number.isSafeInteger(value))
    throw new Error(`the database returned ${what} ${String(text)}, which is not an integer below 2^53`);
  return value;
}

/** A row `[seq, t, sidecar, batch, op, a]` (from `start`) as an entry. */
export function entryOf(row: unknown[], start = 0): LogEntry {
  return {
    seq: safeInt(row[start], "a seq"),
    t: safeInt(row[start + 1], "a time"),
    sidecar: safeInt(row[start + 2], "a sidecar id"),
    batch: safeInt(row[start + 3], "a batch"),
    op: row[start + 4] as string,
    a: row[start + 5] as string,
  };
}

/** The rows of `tail`: `[now, ...entry]`, or a lone row of nulls but `now` when there is no entry. */
export function tailRows(rows: unknown[][]): { entries: LogEntry[]; now: number } {
  const first = firstRow(rows);
  return { entries: entriesFrom(rows, 1), now: safeInt(first[0], "a time") };
}

/**
 * The rows of `append`: `[now, head, ...entry]` with the others' entries, or a lone row of nulls but `now` and
 * `head` when there are none.
 */
export function appendRows(rows: unknown[][]): { others: LogEntry[]; now: number; head: number } {
  const first = firstRow(rows);
  return { others: entriesFrom(rows, 2), now: safeInt(first[0], "a time"), head: safeInt(first[1], "a seq") };
}

function firstRow(rows: unknown[][]): unknown[] {
  const first = rows[0];
  if (first === undefined) throw new Error("the database returned no row");
  return first;
}

/** The entries of rows, in seq order (the database returns them in any order). */
function entriesFrom(rows: unknown[][], start: number): LogEntry[] {
  if (rows[0]?.[start] === null) return [];
  return rows.map((row) => entryOf(row, start)).sort((a, b) => a.seq - b.seq);
}
