import type { LockMode } from "./lock-table.js";
import { parentOf } from "./paths.js";
import { SlotMap } from "./slot-map.js";

/** What the index needs of a queued request. */
export interface QueuedRequest {
  readonly id: number;
  readonly agentId: number;
  readonly paths: readonly string[];
  readonly mode: LockMode;
}

/** Which queued requests a look-up considers: ids strictly between `after` and `before`. */
export interface IdRange {
  readonly after: number;
  readonly before: number;
}

/** Every queued request (all of them are ahead of a new one). */
export const ALL: IdRange = { after: 0, before: Infinity };

/** Requests queued ahead of request `id`. */
export function aheadOf(id: number): IdRange {
  return { after: 0, before: id };
}

/** Requests queued behind request `id`. */
export function behind(id: number): IdRange {
  return { after: id, before: Infinity };
}

/**
 * A path that queued requests want, or a directory above one: the requests
 * on it and how many claims lie on it or below it. A node exists while
 * some claim lies on it or below it.
 */
class QueueNode<W extends QueuedRequest> {
  /** Requests wanting exactly this path, per mode, in queue (id) order; made when the first comes. */
  exclusive: W[] | undefined = undefined;
  shared: W[] | undefined = undefined;
  /** Claims on this path or below it: all of them, and the exclusive ones. */
  within = 0;
  exclusiveWithin = 0;
  /** The nodes one segment below, made when the first comes. */
  children: Set<QueueNode<W>> | undefined = undefined;

  constructor(
    readonly path: string,
    readonly parent: QueueNode<W> | undefined,
  ) {}
}

/**
 * What one look-up session (a deadlock search) has already looked at, so
 * that it looks at no queued claim twice: per node, how long a prefix of
 * each list it has scanned, and up to which id the claims strictly below
 * the node were scanned for an exclusive or a shared claim. Only for
 * look-ups of requests queued ahead of an id (`after` 0): those scan
 * prefixes.
 */
export class ScanMarks {
  readonly nodes = new Map<
    object,
    { exclusive: number; shared: number; belowForExclusive: number; belowForShared: number }
  >();

  at(node: object): { exclusive: number; shared: number; belowForExclusive: number; belowForShared: number } {
    let marks = this.nodes.get(node);
    if (marks === undefined) {
      marks = { exclusive: 0, shared: 0, belowForExclusive: 0, belowForShared: 0 };
      this.nodes.set(node, marks);
    }
    return marks;
  }
}

/**
 * The queued requests indexed by the paths they want, the way the lock
 * table indexes locks: a node per wanted path and per directory above one,
 * each pointing to its parent and to its children, each counting the
 * claims on it or below it. Finding the queued requests whose claims
 * conflict with a claim (conflict-rule.ts: different agents, one of them
 * exclusive, paths equal or one a directory above the other) looks at the
 * path's node and the nodes above it, and at the nodes below it that hold
 * a conflicting claim: O(depth + matches), never a scan of the queue. Each
 * node keeps its requests in queue order, so "queued ahead of request n"
 * stops at the first later one.
 */
export class WaitIndex<W extends QueuedRequest> {
  /** A SlotMap: a path is queued for and left again and again (see slot-map.ts). */
  private readonly nodes = new SlotMap<string, QueueNode<W>>();

  /** Index a request (its paths are distinct). */
  add(request: W): void {
    const exclusive = request.mode === "exclusive";
    for (const path of request.paths) {
      const node = this.ensure(path);
      const list = exclusive ? (node.exclusive ??= []) : (node.shared ??= []);
      insertInOrder(list, request);
      for (let at: QueueNode<W> | undefined = node; at !== undefined; at = at.parent) {
        at.within++;
        if (exclusive) at.exclusiveWithin++;
      }
    }
  }

  /** Drop a request from the index. */
  remove(request: W): void {
    const exclusive = request.mode === "exclusive";
    for (const path of request.paths) {
      const node = this.nodes.get(path);
      const list = exclusive ? node?.exclusive : node?.shared;
      if (node === undefined || list === undefined) continue;
      const index = indexOf(list, request);
      if (index === -1) continue;
      if (index === 0) list.shift();
      else list.splice(index, 1);
      for (let at: QueueNode<W> | undefined = node; at !== undefined; at = at.parent) {
        at.within--;
        if (exclusive) at.exclusiveWithin--;
      }
      for (let at: QueueNode<W> | undefined = node; at !== undefined && at.within === 0; at = at.parent) {
        this.nodes.delete(at.path);
        at.parent?.children?.delete(at);
      }
    }
  }

  /** Forget every request. */
  clear(): void {
    this.nodes.clear();
  }

  /** How many queued requests want exactly `path`. */
  countAt(path: string): number {
    const node = this.nodes.get(path);
    return (node?.exclusive?.length ?? 0) + (node?.shared?.length ?? 0);
  }

  /**
   * Call `visit` with each queued request in `range`, of an agent other
   * than `agentId`, with a claim that conflicts with `agentId` taking
   * `path` in `mode`: a claim on the path, on a directory above it, or
   * below it; nearest first, per node in queue order. A request with
   * several such claims is visited once for each. `visit` returning true
   * stops the look-up, which then returns true.
   *
   * With `blockedCut`, a node's requests behind two earlier exclusive
   * requests of different agents on that same node are left out: each of
   * them conflicts with one of those two, which still wait (finding
   * requests a removal may have unblocked needs no more). With `marks`,
   * what the same marks have seen is skipped (see {@link ScanMarks}).
   */
  forEachConflict(
    agentId: number,
    path: string,
    mode: LockMode,
    range: IdRange,
    visit: (request: W) => boolean | void,
    options: { blockedCut?: boolean; marks?: ScanMarks } = {},
  ): boolean {
    let node = this.nodes.get(path);
    const exact = node;
    if (node === undefined) {
      for (let at = parentOf(path); at !== undefined && node === undefined; at = parentOf(at))
        node = this.nodes.get(at);
    }
    for (let at = node; at !== undefined; at = at.parent) {
      if (this.scanNode(at, agentId, mode, range, visit, options)) return true;
    }
    if (exact === undefined || (mode === "exclusive" ? exact.within : exact.exclusiveWithin) === 0) return false;
    const marks = options.marks;
    if (marks !== undefined) {
      for (let at: QueueNode<W> | undefined = exact; at !== undefined; at = at.parent) {
        const seen = marks.nodes.get(at);
        if (
          seen !== undefined &&
          (seen.belowForExclusive >= range.before || (mode === "shared" && seen.belowForShared >= range.before))
        )
          return false;
      }
    }
    if (this.scanBelow(exact, agentId, mode, range, visit, options)) return true;
    if (marks !== undefined) {
      const seen = marks.at(exact);
      if (mode === "exclusive") seen.belowForExclusive = Math.max(seen.belowForExclusive, range.before);
      else seen.belowForShared = Math.max(seen.belowForShared, range.before);
    }
    return false;
  }

  /** The conflicting claims strictly below `node`'s path (see {@link forEachConflict}). */
  private scanBelow(
    node: QueueNode<W>,
    agentId: number,
    mode: LockMode,
    range: IdRange,
    visit: (request: W) => boolean | void,
    options: { blockedCut?: boolean; marks?: ScanMarks },
  ): boolean {
    const children = node.children;
    if (children === undefined) return false;
    for (const child of children) {
      if ((mode === "exclusive" ? child.within : child.exclusiveWithin) === 0) continue;
      if (this.scanNode(child, agentId, mode, range, visit, options)) return true;
      if (this.scanBelow(child, agentId, mode, range, visit, options)) return true;
    }
    return false;
  }

  /** The conflicting requests on `node` itself: exclusive ones for any claim, shared ones for an exclusive claim. */
  private scanNode(
    node: QueueNode<W>,
    agentId: number,
    mode: LockMode,
    range: IdRange,
    visit: (request: W) => boolean | void,
    options: { blockedCut?: boolean; marks?: ScanMarks },
  ): boolean {
    let before = range.before;
    if (options.blockedCut === true && node.exclusive !== undefined)
      before = Math.min(before, cutAfter(node.exclusive, range) + 1);
    const seen = options.marks?.at(node);
    const exclusive = node.exclusive;
    if (exclusive !== undefined) {
      const end = scanList(exclusive, agentId, range.after, before, seen?.exclusive ?? 0, visit);
      if (end === -1) return true;
      if (seen !== undefined) seen.exclusive = Math.max(seen.exclusive, end);
    }
    const shared = node.shared;
    if (mode === "exclusive" && shared !== undefined) {
      const end = scanList(shared, agentId, range.after, before, seen?.shared ?? 0, visit);
      if (end === -1) return true;
      if (seen !== undefined) seen.shared = Math.max(seen.shared, end);
    }
    return false;
  }

  /** The node of `path`, made (with its missing ancestors) when absent. */
  private ensure(path: string): QueueNode<W> {
    const existing = this.nodes.get(path);
    if (existing !== undefined) return existing;
    const parentPath = parentOf(path);
    const parent = parentPath === undefined ? undefined : this.ensure(parentPath);
    const node = new QueueNode<W>(path, parent);
    if (parent !== undefined) (parent.children ??= new Set()).add(node);
    this.nodes.add(path, node);
    return node;
  }
}

/**
 * Scan `list` (in id order) from index `from` for requests with ids in
 * (after, before) of agents other than `agentId`; returns the index it
 * stopped at (the first id at or past `before`), or -1 when `visit` asked to stop.
 */
function scanList<W extends QueuedRequest>(
  list: readonly W[],
  agentId: number,
  after: number,
  before: number,
  from: number,
  visit: (request: W) => boolean | void,
): number {
  let at = after > 0 ? Math.max(from, firstAfter(list, after)) : from;
  for (; at < list.length; at++) {
    const request = list[at] as W;
    if (request.id >= before) return at;
    if (request.agentId !== agentId && visit(request) === true) return -1;
  }
  return at;
}

/** The id of the first exclusive request in `range` whose agent differs from the first one's, or Infinity. */
function cutAfter<W extends QueuedRequest>(list: readonly W[], range: IdRange): number {
  let at = range.after > 0 ? firstAfter(list, range.after) : 0;
  const first = list[at];
  if (first === undefined) return Infinity;
  for (at++; at < list.length; at++) {
    const request = list[at] as W;
    if (request.id >= range.before) return Infinity;
    if (request.agentId !== first.agentId) return request.id;
  }
  return Infinity;
}

/** The index of the first request in `list` (id order) with an id above `id`. */
function firstAfter(list: readonly QueuedRequest[], id: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[mid] as QueuedRequest).id <= id) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The index of `request` in `list` (id order), or -1. */
function indexOf<W extends QueuedRequest>(list: readonly W[], request: W): number {
  const at = firstAfter(list, request.id - 1);
  return list[at] === request ? at : -1;
}

/** Add `request` to `list` in id order (at the end, unless loaded out of order). */
function insertInOrder<W extends QueuedRequest>(list: W[], request: W): void {
  const last = list[list.length - 1];
  if (last === undefined || last.id < request.id) list.push(request);
  else list.splice(firstAfter(list, request.id), 0, request);
}
