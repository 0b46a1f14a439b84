import type { LockMode } from "../../protocol/common.js";
import type { HeapNode } from "./heap.js";
import { SlotMap } from "./slot-map.js";

export type { LockMode };

/** What the table needs to know of a lock's holder. */
export interface Holder {
  readonly id: number;
}

/** A lock on one normalised path. */
export interface Lock<H extends Holder = Holder> extends HeapNode {
  readonly path: string;
  readonly holder: H;
  mode: LockMode;
  /** From the registry-wide counter at the grant; refreshes and mode changes keep it. */
  readonly fence: number;
  expiresAtMs: number;
  /** Left behind by a crashed holder for --crash-lock-delay-ms: blocks others, belongs to nobody. */
  readonly delayed: boolean;
}

/** Counts of the locks strictly below a directory, per mode, in total and per holder. */
interface Below {
  exclusive: number;
  shared: number;
  readonly exclusiveBy: SlotMap<number, number>;
  readonly sharedBy: SlotMap<number, number>;
}

interface PathNode<H extends Holder> {
  /** Locks exactly on this path, in grant (fence) order: one exclusive, or any number of shared. */
  readonly holders: Lock<H>[];
  below: Below | undefined;
}

/**
 * Every lock, indexed by path, with per-directory counts of the locks below
 * each directory. Two locks conflict when they have different holders, at
 * least one is exclusive, and their paths are equal or one is an ancestor
 * directory of the other by whole segments (`src` covers `src/a.rs`, not
 * `srcx/a.rs`). Checking a path costs O(depth): its own node and its
 * ancestors' nodes are looked up, and the counts at its node say whether
 * anything below it conflicts.
 */
export class LockTable<H extends Holder> {
  private readonly nodes = new SlotMap<string, PathNode<H>>();
  private count = 0;

  /** Number of locks in the table. */
  get size(): number {
    return this.count;
  }

  add(lock: Lock<H>): void {
    const holders = this.node(lock.path).holders;
    let at = holders.length;
    while (at > 0 && (holders[at - 1] as Lock<H>).fence > lock.fence) at--;
    holders.splice(at, 0, lock);
    this.count++;
    forEachAncestor(lock.path, (dir) => adjust(this.belowOf(dir), lock.holder.id, lock.mode, +1));
  }

  remove(lock: Lock<H>): void {
    const node = this.nodes.get(lock.path);
    if (node === undefined) return;
    const index = node.holders.indexOf(lock);
    if (index === -1) return;
    node.holders.splice(index, 1);
    this.count--;
    this.prune(lock.path, node);
    forEachAncestor(lock.path, (dir) => {
      const dirNode = this.nodes.get(dir) as PathNode<H>;
      adjust(dirNode.below as Below, lock.holder.id, lock.mode, -1);
      this.prune(dir, dirNode);
    });
  }

  setMode(lock: Lock<H>, mode: LockMode): void {
    if (lock.mode === mode) return;
    forEachAncestor(lock.path, (dir) => {
      const below = (this.nodes.get(dir) as PathNode<H>).below as Below;
      adjust(below, lock.holder.id, lock.mode, -1);
      adjust(below, lock.holder.id, mode, +1);
    });
    lock.mode = mode;
  }

  /** Locks exactly on `path`, in grant order. */
  holdersAt(path: string): readonly Lock<H>[] {
    return this.nodes.get(path)?.holders ?? [];
  }

  /**
   * Locks on `path` or a covering directory that conflict with `holderId`
   * taking `path` in `mode`, in order from the root down (exclusive holders,
   * then shared ones in grant order). At most two per node are examined.
   */
  coveringConflicts(holderId: number, path: string, mode: LockMode, out: Lock<H>[] = []): Lock<H>[] {
    const visit = (at: string) => {
      const holders = this.nodes.get(at)?.holders;
      if (holders === undefined) return;
      for (const lock of holders) {
        if (lock.holder.id === holderId) continue;
        if (mode === "exclusive" || lock.mode === "exclusive") out.push(lock);
        if (mode === "shared") break;
      }
    };
    forEachAncestor(path, visit);
    visit(path);
    return out;
  }

  /**
   * The id of a holder other than `holderId` with a lock strictly below
   * `path` that conflicts with `mode`, preferring exclusive ones; O(1).
   */
  conflictBelow(holderId: number, path: string, mode: LockMode): { holderId: number; mode: LockMode } | undefined {
    const below = this.nodes.get(path)?.below;
    if (below === undefined) return undefined;
    const other = (by: SlotMap<number, number>) => {
      for (const id of by.keys()) if (id !== holderId) return id;
      return undefined;
    };
    const exclusive = other(below.exclusiveBy);
    if (exclusive !== undefined) return { holderId: exclusive, mode: "exclusive" };
    if (mode === "shared") return undefined;
    const shared = other(below.sharedBy);
    return shared === undefined ? undefined : { holderId: shared, mode: "shared" };
  }

  *values(): IterableIterator<Lock<H>> {
    for (const node of this.nodes.values()) yield* node.holders;
  }

  private node(path: string): PathNode<H> {
    let node = this.nodes.get(path);
    if (node === undefined) {
      node = { holders: [], below: undefined };
      this.nodes.set(path, node);
    }
    return node;
  }

  private belowOf(dir: string): Below {
    const node = this.node(dir);
    node.below ??= { exclusive: 0, shared: 0, exclusiveBy: new SlotMap(), sharedBy: new SlotMap() };
    return node.below;
  }

  private prune(path: string, node: PathNode<H>): void {
    if (node.below !== undefined && node.below.exclusive === 0 && node.below.shared === 0) node.below = undefined;
    if (node.holders.length === 0 && node.below === undefined) this.nodes.delete(path);
  }
}

function adjust(below: Below, holderId: number, mode: LockMode, delta: number): void {
  const by = mode === "exclusive" ? below.exclusiveBy : below.sharedBy;
  const next = (by.get(holderId) ?? 0) + delta;
  if (next === 0) by.delete(holderId);
  else by.set(holderId, next);
  if (mode === "exclusive") below.exclusive += delta;
  else below.shared += delta;
}

/** Call `visit` with each proper ancestor directory of `path`, from the root down: `a`, `a/b` for `a/b/c`. */
export function forEachAncestor(path: string, visit: (dir: string) => void): void {
  for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) visit(path.slice(0, slash));
}

/** True when the two paths are equal or one is an ancestor directory of the other, by whole segments. */
export function pathsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return long.startsWith(short) && long.charCodeAt(short.length) === 47;
}
