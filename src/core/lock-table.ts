import type { LockMode } from "../../protocol/common.js";
import { type LockClaim, claim, conflicts } from "./conflict-rule.js";
import { CountTable } from "./count-table.js";
import { isChild, parentOf } from "./paths.js";
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
  /** The table's link to the directory above, while the lock stands alone on its path (see LockTable). */
  dir: PathNode<H> | undefined;
}

/**
 * How many locks of one mode lie below a directory, per holder. Most
 * directories have one holder below them, kept inline; a count table
 * (count-table.ts) is made only when a second holder appears.
 */
class HolderCounts {
  total = 0;
  private soleId = 0;
  private soleCount = 0;
  private many: CountTable | undefined;

  add(holderId: number, delta: number): void {
    this.total += delta;
    const many = this.many;
    if (many !== undefined) {
      many.add(holderId, delta);
    } else if (this.soleCount === 0 || this.soleId === holderId) {
      this.soleId = holderId;
      this.soleCount += delta;
    } else {
      this.many = new CountTable();
      this.many.add(this.soleId, this.soleCount);
      this.many.add(holderId, delta);
    }
  }

  /** Call `visit` with every holder that has a lock counted here. */
  forEach(visit: (holderId: number) => void): void {
    if (this.total === 0) return;
    if (this.many !== undefined) this.many.forEach(visit);
    else visit(this.soleId);
  }

  /** Some holder other than `holderId` with a lock counted here. */
  other(holderId: number): number | undefined {
    if (this.total === 0) return undefined;
    if (this.many === undefined) return this.soleId === holderId ? undefined : this.soleId;
    return this.many.other(holderId);
  }
}

/** A directory, or a path held by several locks: the locks on it and the counts of those below it. */
export class PathNode<H extends Holder> {
  /** Locks exactly on this path in grant (fence) order: `first`, then `rest` (several shared holders only). */
  first: Lock<H> | undefined = undefined;
  rest: Lock<H>[] | undefined = undefined;
  /** Locks strictly below this directory, per mode; made when the first one appears. */
  exclusiveBelow: HolderCounts | undefined = undefined;
  sharedBelow: HolderCounts | undefined = undefined;

  constructor(
    readonly path: string,
    /** The node of the parent directory; it exists as long as this one does. */
    readonly parent: PathNode<H> | undefined,
  ) {}
}

/** What the path index holds for a path: a lock standing alone on it (the common case), or a node. */
type Entry<H extends Holder> = Lock<H> | PathNode<H>;

/**
 * Every lock, indexed by path, with per-directory counts of the locks below
 * each directory, so that the conflict rule (conflict-rule.ts) can be
 * applied without a scan: a lock on the path or a covering directory is
 * found by walking up, one below it through the counts, and each is tested
 * with {@link conflicts}. A path held by one lock with nothing below it is indexed
 * as that lock itself, which points to its directory's node; a node is
 * made for every directory above a lock and for a path that several locks
 * hold. Each node points to its parent's node, so checking a path costs one
 * lookup of the path (or of its nearest ancestor that is indexed) and a walk
 * up at most `depth` parent pointers; the counts at a node say whether
 * anything below it conflicts.
 */
export class LockTable<H extends Holder> {
  private readonly nodes = new SlotMap<string, Entry<H>>();
  private count = 0;
  private lastDir: PathNode<H> | undefined;

  /** Number of locks in the table. */
  get size(): number {
    return this.count;
  }

  add(lock: Lock<H>): void {
    const entry = this.nodes.get(lock.path);
    if (entry === undefined) this.insertAlone(lock, this.ensureParent(lock.path));
    else this.insert(entry instanceof PathNode ? entry : this.promote(entry), lock);
  }

  /**
   * Add `lock` unless it conflicts with a lock already in the table; then
   * return that lock's holder and path (a lock below `lock.path` is named by
   * its holder only) and change nothing. One lookup for the path.
   */
  tryAdd(lock: Lock<H>): { holderId: number; path?: string } | undefined {
    const request = claimOf(lock);
    const entry = this.nodes.get(lock.path);
    if (entry === undefined) {
      const dir = this.ensureParent(lock.path);
      const conflict = this.covering(dir, request, undefined);
      if (conflict !== undefined) {
        for (let at = dir; at !== undefined && this.prune(at); at = at.parent);
        return { holderId: conflict.holder.id, path: conflict.path };
      }
      this.insertAlone(lock, dir);
      return undefined;
    }
    const node = entry instanceof PathNode ? entry : this.promote(entry);
    const conflict = this.covering(node, request, undefined);
    if (conflict !== undefined) return { holderId: conflict.holder.id, path: conflict.path };
    const below = claimBelow(node, request);
    if (below !== undefined) return { holderId: below.holder };
    this.insert(node, lock);
    return undefined;
  }

  remove(lock: Lock<H>): void {
    const entry = this.nodes.get(lock.path);
    if (entry === lock) {
      this.nodes.delete(lock.path);
      this.count--;
      this.addCounts(lock.dir, lock, -1);
      for (let at = lock.dir; at !== undefined && this.prune(at); at = at.parent);
      lock.dir = undefined;
      return;
    }
    if (!(entry instanceof PathNode)) return;
    const node = entry;
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
    this.addCounts(node.parent, lock, -1);
    for (let at: PathNode<H> | undefined = node; at !== undefined && this.prune(at); at = at.parent);
  }

  setMode(lock: Lock<H>, mode: LockMode): void {
    if (lock.mode === mode) return;
    const entry = this.nodes.get(lock.path);
    const dir = entry === lock ? lock.dir : (entry as PathNode<H> | undefined)?.parent;
    this.addCounts(dir, lock, -1);
    lock.mode = mode;
    this.addCounts(dir, lock, 1);
  }

  /** Locks exactly on `path`, in grant order. */
  holdersAt(path: string): readonly Lock<H>[] {
    const entry = this.nodes.get(path);
    if (entry === undefined) return [];
    return entry instanceof PathNode ? holdersOf(entry) : [entry];
  }

  /**
   * Locks on `path` or a covering directory that conflict with `holderId`
   * taking `path` in `mode`, from `path` up to the root (per node in grant
   * order; see {@link covering}).
   */
  coveringConflicts(holderId: number, path: string, mode: LockMode, out: Lock<H>[] = []): Lock<H>[] {
    const request = claim(holderId, path, mode);
    let node = this.nearest(path);
    if (node !== undefined && !(node instanceof PathNode)) {
      if (conflicts(request, claimOf(node))) out.push(node);
      node = node.dir;
    }
    this.covering(node, request, out);
    return out;
  }

  /**
   * The id of a holder other than `holderId` with a lock strictly below
   * `path` that conflicts with `mode`, preferring exclusive ones; O(1).
   */
  conflictBelow(holderId: number, path: string, mode: LockMode): { holderId: number; mode: LockMode } | undefined {
    const node = this.nodes.get(path);
    if (!(node instanceof PathNode)) return undefined;
    const below = claimBelow(node, claim(holderId, path, mode));
    return below === undefined ? undefined : { holderId: below.holder, mode: below.mode };
  }

  /**
   * Call `visit` with every holder other than `holderId` that has a lock
   * strictly below `path` conflicting with `mode` (a holder with locks in
   * both modes may be visited twice); O(holders below), from the counts.
   */
  forEachHolderBelow(holderId: number, path: string, mode: LockMode, visit: (holderId: number) => void): void {
    const node = this.nodes.get(path);
    if (!(node instanceof PathNode)) return;
    const other = (id: number) => {
      if (id !== holderId) visit(id);
    };
    node.exclusiveBelow?.forEach(other);
    if (mode === "exclusive") node.sharedBelow?.forEach(other);
  }

  *values(): IterableIterator<Lock<H>> {
    for (const entry of this.nodes.values()) {
      if (!(entry instanceof PathNode)) yield entry;
      else {
        if (entry.first !== undefined) yield entry.first;
        if (entry.rest !== undefined) yield* entry.rest;
      }
    }
  }

  /**
   * The locks held on the node `start` and the nodes above it that conflict
   * with `request`, nearest first and per node in grant order: all of them
   * into `out`, or without `out` the first one only. For a shared request
   * only each node's first lock is looked at: while no two locks in the
   * table conflict, a node whose first lock is shared holds no exclusive
   * lock of another holder. (A lock left by the crash lock-delay is the
   * exception: it is exclusive, may come after shared locks on its path,
   * and a shared request then passes it.)
   */
  private covering(
    start: PathNode<H> | undefined,
    request: LockClaim,
    out: Lock<H>[] | undefined,
  ): Lock<H> | undefined {
    for (let at = start; at !== undefined; at = at.parent) {
      for (
        let other = at.first, i = 0;
        other !== undefined;
        other = request.mode === "shared" ? undefined : at.rest?.[i++]
      ) {
        if (!conflicts(request, claimOf(other))) continue;
        if (out === undefined) return other;
        out.push(other);
      }
    }
    return undefined;
  }

  /** Index a lock alone on its path (the path had no entry), below `dir`. */
  private insertAlone(lock: Lock<H>, dir: PathNode<H> | undefined): void {
    lock.dir = dir;
    this.nodes.add(lock.path, lock);
    this.count++;
    this.addCounts(dir, lock, 1);
  }

  /** Add a lock to a node's holders, in fence order. */
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
    this.addCounts(node.parent, lock, 1);
  }

  /** Count (or uncount) `lock` in the directories from `dir` up. */
  private addCounts(dir: PathNode<H> | undefined, lock: Lock<H>, delta: number): void {
    const id = lock.holder.id;
    for (let at = dir; at !== undefined; at = at.parent) {
      if (lock.mode === "exclusive") (at.exclusiveBelow ??= new HolderCounts()).add(id, delta);
      else (at.sharedBelow ??= new HolderCounts()).add(id, delta);
    }
  }

  /** Replace a lone lock's entry by a node holding it (a second lock or something below is coming). */
  private promote(lock: Lock<H>): PathNode<H> {
    const node = new PathNode<H>(lock.path, lock.dir);
    node.first = lock;
    lock.dir = undefined;
    this.nodes.set(lock.path, node);
    return node;
  }

  /** The node of `path`, made (with its missing ancestors) when absent; a lone lock there is promoted. */
  private ensure(path: string): PathNode<H> {
    const existing = this.nodes.get(path);
    if (existing instanceof PathNode) return existing;
    if (existing !== undefined) return this.promote(existing);
    const node = new PathNode<H>(path, this.ensureParent(path));
    this.nodes.add(path, node);
    return node;
  }

  /**
   * The node of the directory holding `path`, made when absent; undefined
   * at the top. The last directory found is remembered, so the siblings
   * that usually follow one another (an agent's files, a snapshot's locks)
   * skip a lookup and a substring.
   */
  private ensureParent(path: string): PathNode<H> | undefined {
    const last = this.lastDir;
    if (last !== undefined && isChild(path, last.path)) return last;
    const parent = parentOf(path);
    if (parent === undefined) return undefined;
    const dir = this.ensure(parent);
    this.lastDir = dir;
    return dir;
  }

  /** The entry of `path`, or of its nearest ancestor that has one. */
  private nearest(path: string): Entry<H> | undefined {
    for (let at: string | undefined = path; at !== undefined; at = parentOf(at)) {
      const entry = this.nodes.get(at);
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  /** Drop a node that holds nothing and has nothing below; true when dropped. */
  private prune(node: PathNode<H>): boolean {
    if (node.exclusiveBelow?.total === 0) node.exclusiveBelow = undefined;
    if (node.sharedBelow?.total === 0) node.sharedBelow = undefined;
    if (node.first !== undefined || node.exclusiveBelow !== undefined || node.sharedBelow !== undefined) return false;
    this.nodes.delete(node.path);
    if (this.lastDir === node) this.lastDir = undefined;
    return true;
  }
}

/** A lock as a claim of its holder. */
function claimOf(lock: Lock): LockClaim {
  return claim(lock.holder.id, lock.path, lock.mode);
}

/**
 * A claim standing for a lock strictly below `node` that conflicts with
 * `request` (on `node`'s path), from the node's counts: an exclusive one if
 * any, else a shared one; O(1).
 */
function claimBelow<H extends Holder>(node: PathNode<H>, request: LockClaim): LockClaim | undefined {
  const exclusive = node.exclusiveBelow?.other(request.holder);
  if (exclusive !== undefined) {
    const below = claim(exclusive, node.path, "exclusive");
    if (conflicts(request, below)) return below;
  }
  const shared = node.sharedBelow?.other(request.holder);
  if (shared !== undefined) {
    const below = claim(shared, node.path, "shared");
    if (conflicts(request, below)) return below;
  }
  return undefined;
}

function holdersOf<H extends Holder>(node: PathNode<H>): Lock<H>[] {
  if (node.first === undefined) return [];
  return node.rest === undefined ? [node.first] : [node.first, ...node.rest];
}
