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
 * pushed-to array to at least 17 slots, so the array is only ever made at
 * an exact size (one larger when full, or as reserved) and filled up to
 * `count`; removal moves the last lock into the hole. Past 16 locks, a map.
 */
export class AgentLocks<L extends Keyed> {
  private items: (L | undefined)[] | undefined;
  private count = 0;
  private map: SlotMap<string, L> | undefined;

  get size(): number {
    return this.map?.size ?? this.count;
  }

  get(path: string): L | undefined {
    if (this.map !== undefined) return this.map.get(path);
    const items = this.items ?? [];
    for (let i = 0; i < this.count; i++) if ((items[i] as L).path === path) return items[i];
    return undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /** Make room for `total` locks at once (a restore knows how many are coming). */
  reserve(total: number): void {
    if (this.map === undefined && total <= SMALL && total > (this.items?.length ?? 0)) this.items = this.copy(total);
  }

  /** Add a lock whose path the agent does not hold (the caller has checked). */
  add(lock: L): void {
    if (this.map !== undefined) {
      this.map.add(lock.path, lock);
      return;
    }
    if (this.count === (this.items?.length ?? 0)) {
      if (this.count === SMALL) {
        const map = new SlotMap<string, L>();
        const items = this.items ?? [];
        for (let i = 0; i < this.count; i++) map.add((items[i] as L).path, items[i] as L);
        map.add(lock.path, lock);
        this.map = map;
        this.items = undefined;
        this.count = 0;
        return;
      }
      this.items = this.copy(this.count + 1);
    }
    (this.items as (L | undefined)[])[this.count++] = lock;
  }

  delete(path: string): void {
    if (this.map !== undefined) {
      this.map.delete(path);
      return;
    }
    const items = this.items;
    if (items === undefined) return;
    for (let i = 0; i < this.count; i++) {
      if ((items[i] as L).path !== path) continue;
      items[i] = items[this.count - 1];
      items[--this.count] = undefined;
      return;
    }
  }

  clear(): void {
    this.items = undefined;
    this.count = 0;
    this.map = undefined;
  }

  forEach(visit: (lock: L) => void): void {
    if (this.map !== undefined) this.map.forEach(visit);
    else for (let i = 0; i < this.count; i++) visit(this.items?.[i] as L);
  }

  values(): Iterable<L> {
    if (this.map !== undefined) return this.map.values();
    return (this.items?.slice(0, this.count) ?? []) as L[];
  }

  /** The held locks in a new array of exactly `length` slots. */
  private copy(length: number): (L | undefined)[] {
    const out = new Array<L | undefined>(length);
    for (let i = 0; i < this.count; i++) out[i] = this.items?.[i];
    return out;
  }
}
