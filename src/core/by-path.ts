import { SlotMap } from "./slot-map.js";

/** What a {@link ByPath} needs of an item. */
interface Keyed {
  readonly path: string;
}

/** Beyond this many items the list becomes a map. */
const SMALL = 16;

/**
 * Items keyed by their path: one agent's live locks, or what lies directly
 * in one directory of the lock table. Most of these hold a few items: an
 * array searched by path is then as fast as a Map and far smaller (a Map
 * with 4 entries takes about 290 bytes, an array of 4 about 80). V8 grows
 * a pushed-to array to at least 17 slots, so the array is only ever made
 * at an exact size (one larger when full, or as reserved) and filled up to
 * `count`; removal moves the last item into the hole. Past 16 items, a map.
 */
export class ByPath<L extends Keyed> {
  private items: (L | undefined)[] | undefined;
  private count = 0;
  private map: SlotMap<string, L> | undefined;

  get size(): number {
    return this.map?.size ?? this.count;
  }

  get(path: string): L | undefined {
    if (this.map !== undefined) return this.map.get(path);
    const items = this.items;
    for (let i = 0; i < this.count; i++) if ((items?.[i] as L).path === path) return items?.[i];
    return undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /** Make room for `total` items at once (a restore knows how many are coming). */
  reserve(total: number): void {
    if (this.map === undefined && total <= SMALL && total > (this.items?.length ?? 0)) this.items = this.copy(total);
  }

  /** Add an item whose path is not in the list (the caller has checked). */
  add(item: L): void {
    if (this.map !== undefined) {
      this.map.add(item.path, item);
      return;
    }
    if (this.count === (this.items?.length ?? 0)) {
      if (this.count === SMALL) {
        const map = new SlotMap<string, L>();
        for (let i = 0; i < this.count; i++) map.add((this.items?.[i] as L).path, this.items?.[i] as L);
        map.add(item.path, item);
        this.map = map;
        this.items = undefined;
        this.count = 0;
        return;
      }
      this.items = this.copy(this.count + 1);
    }
    (this.items as (L | undefined)[])[this.count++] = item;
  }

  /** Put `item` in the place of the item with the same path (which the caller knows is there). */
  replace(item: L): void {
    if (this.map !== undefined) {
      this.map.set(item.path, item);
      return;
    }
    const items = this.items as (L | undefined)[];
    for (let i = 0; i < this.count; i++) {
      if ((items[i] as L).path === item.path) {
        items[i] = item;
        return;
      }
    }
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

  forEach(visit: (item: L) => void): void {
    if (this.map !== undefined) this.map.forEach(visit);
    else for (let i = 0; i < this.count; i++) visit(this.items?.[i] as L);
  }

  values(): Iterable<L> {
    if (this.map !== undefined) return this.map.values();
    return (this.items?.slice(0, this.count) ?? []) as L[];
  }

  /** The items in a new array of exactly `length` slots. */
  private copy(length: number): (L | undefined)[] {
    const out = new Array<L | undefined>(length);
    for (let i = 0; i < this.count; i++) out[i] = this.items?.[i];
    return out;
  }
}
