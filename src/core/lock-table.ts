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

/**
 * How many locks of one mode lie below a directory, per holder. Most
 * directories have one holder below them, kept inline; a map is made only
 * when a second holder appears.
 */
class HolderCounts {
  total = 0;
  private soleId = 0;
  private soleCount = 0;
  private many: SlotMap<number, number> | undefined;

  add(holderId: number, delta: number): void {
    this.total += delta;
    const many = this.many;
    if (many !== undefined) {
      const next = (many.get(holderId) ?? 0) + delta;
      if (next === 0) many.delete(holderId);
      else many.set(holderId, next);
    } else if (this.soleCount === 0 || this.soleId === holderId) {
      this.soleId = holderId;
      this.soleCount += delta;
    } else {
      this.many = new SlotMap();
      this.many.set(this.soleId, this.soleCount);
      this.many.set(holderId, delta);
    }
  }

  /** Some holder other than `holderId` with a lock counted here. */
  other(holderId: number): number | undefined {
    if (this.total === 0) return undefined;
    if (this.many === undefined) return this.soleId === holderId ? undefined : this.soleId;
    for (const id of this.many.keys()) if (id !== holderId) return id;
    return undefined;
  }
}

interface PathNode<H extends Holder> {
  readonly path: string;
  /** The node of the parent directory; it exists as long as this one does. */
  readonly parent: PathNode<H> | undefined;
  /** Locks exactly on this path in grant (fence) order: `first`, then `rest` (several shared holders only). */
  first: Lock<H> | undefined;
  rest: Lock<H>[] | undefined;
  /** Locks strictly below this directory, per mode; made when the first one appears. */
  exclusiveBelow: HolderCounts | undefined;
  sharedBelow: HolderCounts | undefined;
}

/**
 * Every lock, indexed by path, with per-directory counts of the locks below
 * each directory. Two locks conflict when they have different holders, at
 * least one is exclusive, and their paths are equal or one is an ancestor
 * directory of the other by whole segments (`src` covers `src/a.rs`, not
 * `srcx/a.rs`). A node exists for every locked path and every directory
 * above one, and points to its parent's node, so checking a path costs one
 * lookup of the path (or of its nearest ancestor that has a node) and a walk
 * up at most `depth` parent pointers; the counts at its node say whether
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
    this.insert(this.ensure(lock.path), lock);
  }

  /**
   * Add `lock` unless it conflicts with a lock already in the table; then
   * return that lock's holder and path (a lock below `lock.path` is named by
   * its holder only) and change nothing. One lookup for the path's node.
   */
  tryAdd(lock: Lock<H>): { holderId: number; path?: string } | undefined {
    const node = this.ensure(lock.path);
    const id = lock.holder.id;
    for (let at: PathNode<H> | undefined = node; at !== undefined; at = at.parent) {
      for (let other = at.first, i = 0; other !== undefined; other = at.rest?.[i++]) {
        if (other.holder.id !== id && (lock.mode === "exclusive" || other.mode === "exclusive")) {
          this.prune(node);
          return { holderId: other.holder.id, path: other.path };
        }
      }
    }
    const below = node.exclusiveBelow?.other(id) ?? (lock.mode === "exclusive" ? node.sharedBelow?.other(id) : undefined);
    if (below !== undefined) return { holderId: below };
    this.insert(node, lock);
    return undefined;
  }

  private insert(node: PathNode<H>, lock: Lock<H>): void {
    if (node.first === undefined) node.first = lock;
    else if (lock.fence < node.first.fence) {
      node.rest = [node.first, ...(node.rest ?? [])];
      node.first = lock;
    } else {
      const rest = (node.rest ??= []);
      let at = rest.length;
      while (at > 0 && (rest[at - 1] as Lock<H>).fence > lock.fence) at--;
      rest.splice(at, 0, lock);
    }
    this.count++;
    const id = lock.holder.id;
    for (let dir = node.parent; dir !== undefined; dir = dir.parent) {
      if (lock.mode === "exclusive") (dir.exclusiveBelow ??= new HolderCounts()).add(id, 1);
      else (dir.sharedBelow ??= new HolderCounts()).add(id, 1);
    }
  }

  remove(lock: Lock<H>): void {
    const node = this.nodes.get(lock.path);
    if (node === undefined) return;
    if (node.first === lock) {
      node.first = node.rest?.shift();
      if (node.rest?.length === 0) node.rest = undefined;
    } else {
      const index = node.rest?.indexOf(lock) ?? -1;
      if (index === -1) return;
      node.rest?.splice(index, 1);
      if (node.rest?.length === 0) node.rest = undefined;
    }
    this.count--;
    for (let dir = node.parent; dir !== undefined; dir = dir.parent) countsOf(dir, lock.mode).add(lock.holder.id, -1);
    for (let at: PathNode<H> | undefined = node; at !== undefined && this.prune(at); at = at.parent);
  }

  setMode(lock: Lock<H>, mode: LockMode): void {
    if (lock.mode === mode) return;
    for (let dir = this.nodes.get(lock.path)?.parent; dir !== undefined; dir = dir.parent) {
      countsOf(dir, lock.mode).add(lock.holder.id, -1);
      if (mode === "exclusive") (dir.exclusiveBelow ??= new HolderCounts()).add(lock.holder.id, 1);
      else (dir.sharedBelow ??= new HolderCounts()).add(lock.holder.id, 1);
    }
    lock.mode = mode;
  }

  /** Locks exactly on `path`, in grant order. */
  holdersAt(path: string): readonly Lock<H>[] {
    const node = this.nodes.get(path);
    return node === undefined ? [] : holdersOf(node);
  }

  /**
   * Locks on `path` or a covering directory that conflict with `holderId`
   * taking `path` in `mode`, from `path` up to the root (per node in grant
   * order). For a shared request at most one lock per node is looked at
   * (a node with an exclusive lock has no other).
   */
  coveringConflicts(holderId: number, path: string, mode: LockMode, out: Lock<H>[] = []): Lock<H>[] {
    for (let node = this.nearest(path); node !== undefined; node = node.parent) {
      const first = node.first;
      if (first === undefined) continue;
      if (mode === "shared") {
        if (first.mode === "exclusive" && first.holder.id !== holderId) out.push(first);
        continue;
      }
      if (first.holder.id !== holderId) out.push(first);
      for (const lock of node.rest ?? []) if (lock.holder.id !== holderId) out.push(lock);
    }
    return out;
  }

  /**
   * The id of a holder other than `holderId` with a lock strictly below
   * `path` that conflicts with `mode`, preferring exclusive ones; O(1).
   */
  conflictBelow(holderId: number, path: string, mode: LockMode): { holderId: number; mode: LockMode } | undefined {
    const node = this.nodes.get(path);
    if (node === undefined) return undefined;
    const exclusive = node.exclusiveBelow?.other(holderId);
    if (exclusive !== undefined) return { holderId: exclusive, mode: "exclusive" };
    if (mode === "shared") return undefined;
    const shared = node.sharedBelow?.other(holderId);
    return shared === undefined ? undefined : { holderId: shared, mode: "shared" };
  }

  *values(): IterableIterator<Lock<H>> {
    for (const node of this.nodes.values()) {
      if (node.first !== undefined) yield node.first;
      if (node.rest !== undefined) yield* node.rest;
    }
  }

  /** The node of `path`, made (with its missing ancestors) when absent. */
  private ensure(path: string): PathNode<H> {
    const existing = this.nodes.get(path);
    if (existing !== undefined) return existing;
    const slash = path.lastIndexOf("/");
    const node: PathNode<H> = {
      path,
      parent: slash === -1 ? undefined : this.ensure(path.slice(0, slash)),
      first: undefined,
      rest: undefined,
      exclusiveBelow: undefined,
      sharedBelow: undefined,
    };
    this.nodes.add(path, node);
    return node;
  }

  /** The node of `path`, or of its nearest ancestor that has one. */
  private nearest(path: string): PathNode<H> | undefined {
    for (let at = path; ; ) {
      const node = this.nodes.get(at);
      if (node !== undefined) return node;
      const slash = at.lastIndexOf("/");
      if (slash === -1) return undefined;
      at = at.slice(0, slash);
    }
  }

  /** Drop a node that holds nothing and has nothing below; true when dropped. */
  private prune(node: PathNode<H>): boolean {
    if (node.exclusiveBelow?.total === 0) node.exclusiveBelow = undefined;
    if (node.sharedBelow?.total === 0) node.sharedBelow = undefined;
    if (node.first !== undefined || node.exclusiveBelow !== undefined || node.sharedBelow !== undefined) return false;
    this.nodes.delete(node.path);
    return true;
  }
}

function holdersOf<H extends Holder>(node: PathNode<H>): Lock<H>[] {
  if (node.first === undefined) return [];
  return node.rest === undefined ? [node.first] : [node.first, ...node.rest];
}

function countsOf<H extends Holder>(node: PathNode<H>, mode: LockMode): HolderCounts {
  return (mode === "exclusive" ? node.exclusiveBelow : node.sharedBelow) as HolderCounts;
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

/** True when `path` is `dir` or lies below it, by whole segments. */
export function isWithin(path: string, dir: string): boolean {
  return path.length >= dir.length && pathsOverlap(path, dir);
}
