import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentLocks } from "../../src/core/agent-locks.js";
import { CountTable } from "../../src/core/count-table.js";
import { IndexedHeap } from "../../src/core/heap.js";
import { SlotMap } from "../../src/core/slot-map.js";

describe("IndexedHeap", () => {
  it("pops in key order under random pushes, updates and removals", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom("push", "update", "remove"), fc.nat({ max: 30 }), fc.integer({ min: -50, max: 50 })),
        ),
        (ops) => {
          const nodes = Array.from({ length: 31 }, () => ({ key: 0, heapIndex: -1 }));
          const heap = new IndexedHeap<(typeof nodes)[number]>((a, b) => a.key < b.key);
          const inHeap = new Set<(typeof nodes)[number]>();
          for (const [op, which, key] of ops) {
            const node = nodes[which] as (typeof nodes)[number];
            if (op === "remove") {
              heap.remove(node);
              inHeap.delete(node);
            } else if (op === "push" && !inHeap.has(node)) {
              node.key = key;
              heap.push(node);
              inHeap.add(node);
            } else {
              node.key = key;
              heap.update(node);
              inHeap.add(node);
            }
            expect(heap.size).toBe(inHeap.size);
          }
          const expected = [...inHeap].map((n) => n.key).sort((a, b) => a - b);
          const popped: number[] = [];
          for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
            popped.push(top.key);
            heap.remove(top);
            expect(heap.has(top)).toBe(false);
          }
          expect(popped).toEqual(expected);
        },
      ),
    );
  });
});

describe("SlotMap", () => {
  it("behaves like a Map across churn and compaction", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 3000 })), { maxLength: 6000 }), (ops) => {
        const real = new SlotMap<number, number>();
        const model = new Map<number, number>();
        ops.forEach(([add, key], i) => {
          if (add) {
            real.set(key, i);
            model.set(key, i);
          } else {
            expect(real.delete(key)).toBe(model.delete(key));
          }
          expect(real.size).toBe(model.size);
        });
        for (const [key, value] of model) expect(real.get(key)).toBe(value);
        expect([...real.keys()].sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
        expect(real.has(-1)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it("compacts after many deletions and keeps the survivors", () => {
    const map = new SlotMap<string, number>();
    for (let i = 0; i < 5000; i++) map.set(`k${i}`, i);
    for (let i = 0; i < 4990; i++) map.delete(`k${i}`);
    expect(map.size).toBe(10);
    expect([...map.values()]).toEqual([4990, 4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999]);
  });
});

describe("CountTable", () => {
  const id = fc.oneof(
    fc.integer({ min: 1, max: 60 }),
    fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER),
  );
  it("counts like a Map through growth, shrinking and removals, and names another id when there is one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(id, fc.integer({ min: -2, max: 3 })), { minLength: 50, maxLength: 800, size: "max" }),
        (ops) => {
          const table = new CountTable();
          const model = new Map<number, number>();
          for (const [key, wanted] of ops) {
            const held = model.get(key) ?? 0;
            const delta = held + wanted < 0 ? -held : wanted;
            table.add(key, delta);
            if (held + delta === 0) model.delete(key);
            else model.set(key, held + delta);
            expect(table.size).toBe(model.size);
            expect(table.get(key)).toBe(model.get(key) ?? 0);
            const other = table.other(key);
            if ([...model.keys()].some((k) => k !== key))
              expect(model.has(other as number) && other !== key).toBe(true);
            else expect(other).toBeUndefined();
          }
          for (let key = 1; key <= 60; key++) expect(table.get(key)).toBe(model.get(key) ?? 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps every survivor reachable after most ids leave (backward-shift removal, shrinking)", () => {
    const table = new CountTable();
    for (let key = 1; key <= 5000; key++) table.add(key, key);
    for (let key = 1; key <= 4990; key++) table.add(key, -key);
    expect(table.size).toBe(10);
    for (let key = 4991; key <= 5000; key++) expect(table.get(key)).toBe(key);
    expect(table.get(1)).toBe(0);
  });
});

describe("SlotMap.insert", () => {
  it("inserts into a free or emptied slot and reports the occupant otherwise", () => {
    const map = new SlotMap<string, number>();
    expect(map.insert("a", 1)).toBeUndefined();
    expect(map.insert("a", 2)).toBe(1);
    expect(map.get("a")).toBe(1);
    map.delete("a");
    expect(map.insert("a", 3)).toBeUndefined();
    expect(map.get("a")).toBe(3);
    expect(map.size).toBe(1);
  });
});

describe("AgentLocks", () => {
  it("agrees with a Map through random adds, deletes and reserves, across the switch to a map past 16", () => {
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant("add" as const), key: fc.integer({ min: 0, max: 40 }) }) },
      {
        weight: 3,
        arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 40 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant("reserve" as const), key: fc.integer({ min: 0, max: 20 }) }),
      },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 30, maxLength: 200, size: "max" }), (ops) => {
        const locks = new AgentLocks<{ path: string }>();
        const model = new Map<string, { path: string }>();
        for (const { kind, key } of ops) {
          const path = `p${key}`;
          if (kind === "add" && !model.has(path)) {
            const lock = { path };
            locks.add(lock);
            model.set(path, lock);
          } else if (kind === "delete") {
            locks.delete(path);
            model.delete(path);
          } else if (kind === "reserve") {
            locks.reserve(key);
          }
          expect(locks.size).toBe(model.size);
        }
        for (let key = 0; key <= 40; key++) expect(locks.get(`p${key}`)).toBe(model.get(`p${key}`));
        const seen: string[] = [];
        locks.forEach((lock) => {
          seen.push(lock.path);
        });
        expect(seen.sort()).toEqual([...model.keys()].sort());
        expect([...locks.values()].map((lock) => lock.path).sort()).toEqual([...model.keys()].sort());
        locks.clear();
        expect(locks.size).toBe(0);
        expect(locks.get("p0")).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
