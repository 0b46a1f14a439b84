import { SlotMap } from "./slot-map.js";

/** What an agent's lock list needs of a lock. */
interface Keyed {
  readonly path: string;
}

/** Beyond this many locks an agent's list becomes a map. */
const SMALL = 16;

/**
 * One agent's live locks by path. Most agents hold a few locks: an array
 * searched by path is then as fast as a Map and far smaller (a Map with 4
 * entries takes about 290 bytes, an array of 4 about 80). V8 grows a
 * pushed-to array to at least 17 slots, so a full array is copied to one
 * slot larger instead; removal swaps the last lock in and pops, and the
 * slot it frees is reused by the next push. Past 16 locks, a map.
 */
export class AgentLocks<L extends Keyed> {
  private list: L[] | undefined;
  /** Slots in `list`'s backing store (pop keeps them). */
  private capacity = 0;
  private map: SlotMap<string, L> | undefined;

  get size(): number {
    return this.map?.size ?? this.list?.length ?? 0;
  }

  get(path: string): L | undefined {
    if (this.map !== undefined) return this.map.get(path);
    const list = this.list;
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) if ((list[i] as L).path === path) return list[i];
    return undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /** Add a lock whose path the agent does not hold (the caller has checked). */
  add(lock: L): void {
    if (this.map !== undefined) {
      this.map.add(lock.path, lock);
      return;
    }
    const list = this.list;
    if (list !== undefined && list.length < this.capacity) {
      list.push(lock);
      return;
    }
    const length = (list?.length ?? 0) + 1;
    if (length > SMALL) {
      this.map = new SlotMap();
      for (const held of list ?? []) this.map.add(held.path, held);
      this.map.add(lock.path, lock);
      this.list = undefined;
      this.capacity = 0;
      return;
    }
    this.list = list === undefined ? [lock] : list.concat([lock]);
    this.capacity = length;
  }

  delete(path: string): void {
    if (this.map !== undefined) {
      this.map.delete(path);
      return;
    }
    const list = this.list;
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      if ((list[i] as L).path !== path) continue;
      list[i] = list[list.length - 1] as L;
      list.pop();
      return;
    }
  }

  clear(): void {
    this.list = undefined;
    this.capacity = 0;
    this.map = undefined;
  }

  forEach(visit: (lock: L) => void): void {
    if (this.map !== undefined) this.map.forEach(visit);
    else if (this.list !== undefined) for (const lock of this.list) visit(lock);
  }

  values(): Iterable<L> {
    return this.map?.values() ?? this.list ?? [];
  }
}
