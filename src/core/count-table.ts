/** Fewest slots a table keeps (a power of two). */
const MIN_SLOTS = 8;

/**
 * Counts by id (an integer ≥ 1): one Float64Array of `[id, count]` pairs,
 * open addressing with linear probing; a slot whose id is 0 is free.
 * Removal shifts the following entries back, so no deleted markers pile up
 * however often one id comes and goes. The array lives off the JS heap:
 * the GC never copies it, and an id needs no hashing of a string. The table
 * is kept between an eighth and half full, so a lookup takes a few probes
 * and {@link other} a few slots on average. Used for the per-holder lock
 * counts of a directory with several holders below it.
 */
export class CountTable {
  private pairs = new Float64Array(2 * MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private used = 0;

  /** Number of ids with a count. */
  get size(): number {
    return this.used;
  }

  /** The count of `id`; 0 when it has none. */
  get(id: number): number {
    const pairs = this.pairs;
    for (let slot = this.home(id); ; slot = (slot + 1) & this.mask) {
      const held = pairs[2 * slot] as number;
      if (held === id) return pairs[2 * slot + 1] as number;
      if (held === 0) return 0;
    }
  }

  /** Add `delta` to the count of `id`; an id whose count reaches 0 is removed. */
  add(id: number, delta: number): void {
    const pairs = this.pairs;
    let slot = this.home(id);
    for (; ; slot = (slot + 1) & this.mask) {
      const held = pairs[2 * slot] as number;
      if (held === id) break;
      if (held === 0) {
        if (delta === 0) return;
        pairs[2 * slot] = id;
        pairs[2 * slot + 1] = delta;
        if (2 * ++this.used > this.mask + 1) this.resize(2 * (this.mask + 1));
        return;
      }
    }
    const count = (pairs[2 * slot + 1] as number) + delta;
    if (count !== 0) pairs[2 * slot + 1] = count;
    else this.removeAt(slot);
  }

  /** Call `visit` with every id that has a count. */
  forEach(visit: (id: number) => void): void {
    const pairs = this.pairs;
    for (let at = 0; at < pairs.length; at += 2) {
      const held = pairs[at] as number;
      if (held !== 0) visit(held);
    }
  }

  /** Some id other than `id` with a count, if there is one. */
  other(id: number): number | undefined {
    const pairs = this.pairs;
    for (let at = 0; at < pairs.length; at += 2) {
      const held = pairs[at] as number;
      if (held !== 0 && held !== id) return held;
    }
    return undefined;
  }

  private home(id: number): number {
    return (Math.imul(id | 0, 0x9e3779b1) ^ Math.imul((id / 0x100000000) | 0, 0x85ebca6b)) & this.mask;
  }

  /** Empty `slot` and move back the entries after it that could not sit in their home slot. */
  private removeAt(slot: number): void {
    const pairs = this.pairs;
    const mask = this.mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; ; next = (next + 1) & mask) {
      const id = pairs[2 * next] as number;
      if (id === 0) break;
      const home = this.home(id);
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        pairs[2 * hole] = id;
        pairs[2 * hole + 1] = pairs[2 * next + 1] as number;
        hole = next;
      }
    }
    pairs[2 * hole] = 0;
    pairs[2 * hole + 1] = 0;
    this.used--;
    if (8 * this.used < this.mask + 1 && this.mask + 1 > MIN_SLOTS) this.resize((this.mask + 1) / 2);
  }

  private resize(slots: number): void {
    const old = this.pairs;
    this.pairs = new Float64Array(2 * slots);
    this.mask = slots - 1;
    for (let at = 0; at < old.length; at += 2) {
      const id = old[at] as number;
      if (id === 0) continue;
      let slot = this.home(id);
      while (this.pairs[2 * slot] !== 0) slot = (slot + 1) & this.mask;
      this.pairs[2 * slot] = id;
      this.pairs[2 * slot + 1] = old[at + 1] as number;
    }
  }
}
