import { MAX_ID } from "../../protocol/constants.js";
import { InvalidInputError } from "./errors.js";
import { type HeapNode, IndexedHeap } from "./heap.js";
import type { LockMode } from "./lock-table.js";
import { SlotMap } from "./slot-map.js";
import { WaitIndex } from "./wait-index.js";

/** How a wait ended. `result` is what the acquire answers with. */
export type WaitOutcome<R> =
  | { kind: "granted"; result: R }
  | { kind: "timed_out"; result: R }
  | { kind: "cancelled" }
  | { kind: "agent_gone"; why: "crashed" | "unregistered" | "replaced" | "restored" }
  | { kind: "quota_exceeded"; why: string }
  | { kind: "id_space_exhausted"; why: string };

/** A request waiting for its conflicts to go. */
export interface Waiter<R> extends HeapNode {
  readonly id: number;
  readonly agentId: number;
  readonly paths: readonly string[];
  readonly mode: LockMode;
  readonly ttlMs: number;
  readonly deadline: number;
  readonly done: (outcome: WaitOutcome<R>) => void;
}

/** A waiter without its callback: what a journal keeps of a wait across a compaction. */
export type SavedWaiter = Pick<Waiter<unknown>, "id" | "agentId" | "paths" | "mode" | "ttlMs" | "deadline">;

/** Every pending wait, oldest first, and the id the next one gets. */
export interface SavedWaits {
  next_id: number;
  waits: SavedWaiter[];
}

/**
 * Waiters in arrival order (FIFO), with a deadline heap, an index of the
 * paths they want (wait-index.ts) and their agents' waiters beside them.
 */
export class WaitQueue<R> {
  private readonly byId = new Map<number, Waiter<R>>();
  private readonly deadlines = new IndexedHeap<Waiter<R>>(
    (a, b) => a.deadline < b.deadline || (a.deadline === b.deadline && a.id < b.id),
  );
  /** A SlotMap: an agent waits and stops waiting again and again (see slot-map.ts). */
  private readonly agents = new SlotMap<number, Set<Waiter<R>>>();
  /** The waiters by the paths they want. */
  readonly index = new WaitIndex<Waiter<R>>();
  private nextId = 1;

  get size(): number {
    return this.byId.size;
  }

  /** The id the next waiter gets (the caller checks it is not past 2^53-1). */
  get nextWaitId(): number {
    return this.nextId;
  }

  add(waiter: Omit<Waiter<R>, "id" | "heapIndex">): Waiter<R> {
    const entry: Waiter<R> = { ...waiter, id: this.nextId++, heapIndex: -1 };
    this.put(entry);
    return entry;
  }

  /** The pending waits without their callbacks. */
  save(): SavedWaits {
    const waits = [...this.byId.values()].map(({ id, agentId, paths, mode, ttlMs, deadline }) => ({
      id,
      agentId,
      paths: [...paths],
      mode,
      ttlMs,
      deadline,
    }));
    return { next_id: this.nextId, waits };
  }

  /**
   * Put saved waits back (into an empty queue, in id order, paths made distinct), each reporting to `done(id)`;
   * `next_id` must lie past every saved id and not past 2^53.
   */
  load(saved: SavedWaits, done: (id: number) => Waiter<R>["done"]): void {
    const last = saved.waits.reduce((max, wait) => Math.max(max, wait.id), 0);
    if (!Number.isInteger(saved.next_id) || saved.next_id <= last || saved.next_id > MAX_ID + 1) {
      throw new InvalidInputError(
        "waits.next_id",
        `must be an integer above every wait id (${last}) and at most 2^53, got ${saved.next_id}`,
      );
    }
    const waits = [...saved.waits].sort((a, b) => a.id - b.id);
    const repeated = waits.find((wait, at) => at > 0 && waits[at - 1]?.id === wait.id);
    if (repeated !== undefined) throw new InvalidInputError("waits.waits", `repeat wait id ${repeated.id}`);
    for (const wait of waits)
      this.put({ ...wait, paths: [...new Set(wait.paths)], done: done(wait.id), heapIndex: -1 });
    this.nextId = saved.next_id;
  }

  get(id: number): Waiter<R> | undefined {
    return this.byId.get(id);
  }

  remove(waiter: Waiter<R>): void {
    if (this.byId.get(waiter.id) !== waiter) return;
    this.byId.delete(waiter.id);
    this.deadlines.remove(waiter);
    this.index.remove(waiter);
    const mine = this.agents.get(waiter.agentId);
    mine?.delete(waiter);
    if (mine?.size === 0) this.agents.delete(waiter.agentId);
  }

  /** True while `waiter` waits. */
  has(waiter: Waiter<R>): boolean {
    return this.byId.get(waiter.id) === waiter;
  }

  /** The waiters of one agent, oldest first; undefined when it has none. */
  of(agentId: number): ReadonlySet<Waiter<R>> | undefined {
    return this.agents.get(agentId);
  }

  /** The waiter whose deadline comes first. */
  nextDeadline(): Waiter<R> | undefined {
    return this.deadlines.peek();
  }

  /** Waiters, oldest first. */
  values(): IterableIterator<Waiter<R>> {
    return this.byId.values();
  }

  /** How many waiters want `path` itself. */
  countFor(path: string): number {
    return this.index.countAt(path);
  }

  private put(entry: Waiter<R>): void {
    this.byId.set(entry.id, entry);
    this.deadlines.push(entry);
    this.index.add(entry);
    let mine = this.agents.get(entry.agentId);
    if (mine === undefined) {
      mine = new Set();
      this.agents.add(entry.agentId, mine);
    }
    mine.add(entry);
  }
}
