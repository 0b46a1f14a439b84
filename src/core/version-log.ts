import type * as z from "zod/mini";
import type { EditOp } from "../../protocol/common.js";
import type { ResultOf } from "../../protocol/methods.js";
import type { SnapshotEntry } from "../../protocol/snapshot.js";
import { dictionary, inCodeUnitOrder, isIndexKey } from "./dictionary.js";
import { compareStrings } from "./paths.js";

/** Edit operation recorded in the log. */
export type EditOpName = z.infer<typeof EditOp>;

/** One recorded change, as `changes_since` reports it (`hash`: FNV-1a 64-bit, canonical decimal string). */
export type Change = Readonly<ResultOf<"changes_since">[number]>;

/** Entries kept per path, as in harn-hostlib's versions.rs. */
export const HISTORY_PER_PATH = 200;

/**
 * Global edit log: a strictly increasing sequence number and the last
 * {@link HISTORY_PER_PATH} changes of each path. `changesSince` finds its
 * start by binary search in a seq-ordered array, so it costs O(log n + k).
 */
export class VersionLog {
  private seq = 0;
  private readonly byPath = new Map<string, Change[]>();
  /** Every retained change in seq order, plus evicted ones until the next compaction. */
  private ordered: Change[] = [];
  private retained = 0;

  get currentSeq(): number {
    return this.seq;
  }

  record(change: Omit<Change, "seq">): number {
    const { path, agent_id, op, hash, size, timestamp_ms } = change;
    const entry: Change = { path, seq: this.seq + 1, agent_id, op, hash, size, timestamp_ms };
    this.seq = entry.seq;
    this.append(entry);
    return entry.seq;
  }

  /** Changes with `seq > since`, ascending; with `limit`, only the most recent `limit`. */
  changesSince(since: number, limit?: number): Change[] {
    const out: Change[] = [];
    const ordered = this.ordered;
    if (limit !== undefined) {
      for (let i = ordered.length - 1; i >= 0 && out.length < limit; i--) {
        const entry = ordered[i] as Change;
        if (entry.seq <= since) break;
        if (this.isRetained(entry)) out.push(entry);
      }
      return out.reverse();
    }
    for (let i = this.firstAfter(since); i < ordered.length; i++) {
      const entry = ordered[i] as Change;
      if (this.isRetained(entry)) out.push(entry);
    }
    return out;
  }

  /** Per-path history for a snapshot, with no prototype, its paths listed in code-unit order (see inCodeUnitOrder). */
  history(): Record<string, SnapshotEntry[]> {
    const history = dictionary<SnapshotEntry[]>();
    let hasIndexKey = false;
    for (const path of [...this.byPath.keys()].sort(compareStrings)) {
      if (!hasIndexKey && isIndexKey(path)) hasIndexKey = true;
      history[path] = (this.byPath.get(path) as Change[]).map(({ seq, agent_id, timestamp_ms, op, hash, size }) => ({
        seq,
        agent_id,
        timestamp_ms,
        op,
        hash,
        size,
      }));
    }
    return inCodeUnitOrder(history, hasIndexKey);
  }

  /** Replace the whole log. `changes` must have distinct seqs, none above `currentSeq`. */
  load(currentSeq: number, changes: Change[]): void {
    this.seq = currentSeq;
    this.byPath.clear();
    this.ordered = [];
    this.retained = 0;
    for (const change of [...changes].sort((a, b) => a.seq - b.seq)) this.append(change);
  }

  private append(entry: Change): void {
    let list = this.byPath.get(entry.path);
    if (list === undefined) {
      list = [];
      this.byPath.set(entry.path, list);
    }
    list.push(entry);
    this.ordered.push(entry);
    this.retained++;
    if (list.length > HISTORY_PER_PATH) {
      list.shift();
      this.retained--;
      if (this.ordered.length > 2 * this.retained + 1024) this.ordered = this.ordered.filter((e) => this.isRetained(e));
    }
  }

  private isRetained(entry: Change): boolean {
    const list = this.byPath.get(entry.path) as Change[];
    return entry.seq >= (list[0] as Change).seq;
  }

  private firstAfter(since: number): number {
    let low = 0;
    let high = this.ordered.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.ordered[mid] as Change).seq <= since) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
