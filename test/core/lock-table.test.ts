// The lock table (src/core/lock-table.ts) against a list of locks checked
// by brute force: random adds, removals and mode changes over nested paths
// (a path can be a file, a directory of other locks, or both), with every
// query compared after every step.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Lock, type LockMode, LockTable, pathsOverlap } from "../../src/core/lock-table.js";

interface Holder {
  id: number;
}

const holders: Holder[] = [1, 2, 3].map((id) => ({ id }));
const segments = ["a", "b", "ab"];
const universe = [...new Set(segments.flatMap((x) => [x, ...segments.flatMap((y) => [`${x}/${y}`, ...segments.map((z) => `${x}/${y}/${z}`)])]))];
const modes: LockMode[] = ["exclusive", "shared"];

const step = fc.record({
  kind: fc.constantFrom("tryAdd", "tryAdd", "tryAdd", "remove", "setMode"),
  holder: fc.constantFrom(...holders),
  path: fc.constantFrom(...universe),
  mode: fc.constantFrom(...modes),
  pick: fc.nat(),
});

const conflicts = (a: { holder: Holder; mode: LockMode }, holderId: number, mode: LockMode): boolean =>
  a.holder.id !== holderId && (a.mode === "exclusive" || mode === "exclusive");
const below = (path: string, dir: string): boolean => path.length > dir.length && pathsOverlap(path, dir);

/** The same locks in any order; expect() runs only on a mismatch, for its message (it is slow). */
function agree(actual: readonly Lock<Holder>[], expected: readonly Lock<Holder>[], what: string): void {
  const want = new Set(expected);
  if (actual.length !== want.size || actual.some((lock) => !want.has(lock))) expect(new Set(actual), what).toEqual(want);
}

describe("LockTable", () => {
  it("answers every query as a brute-force scan of its locks does", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 100, size: "max" }), (steps) => {
        const table = new LockTable<Holder>();
        let model: Lock<Holder>[] = [];
        let fence = 1;
        for (const { kind, holder, path, mode, pick } of steps) {
          if (kind === "tryAdd") {
            if (model.some((lock) => lock.holder === holder && lock.path === path)) continue;
            const lock: Lock<Holder> = { path, holder, mode, fence: fence++, expiresAtMs: 0, heapIndex: -1, dir: undefined };
            const blocking = model.filter((other) => pathsOverlap(other.path, path) && conflicts(other, holder.id, mode));
            const answer = table.tryAdd(lock);
            if (blocking.length === 0) {
              expect(answer).toBeUndefined();
              model.push(lock);
            } else {
              expect(answer).toBeDefined();
              expect(blocking.some((other) => other.holder.id === answer?.holderId && (answer.path === undefined || answer.path === other.path))).toBe(true);
            }
          } else if (model.length > 0) {
            const lock = model[pick % model.length] as Lock<Holder>;
            if (kind === "remove") {
              table.remove(lock);
              model = model.filter((other) => other !== lock);
            } else if (!model.some((other) => pathsOverlap(other.path, lock.path) && conflicts(other, lock.holder.id, mode))) {
              table.setMode(lock, mode);
            }
          }
          expect(table.size).toBe(model.length);
          agree([...table.values()], model, "values()");
          for (const at of universe) {
            const exact = model.filter((lock) => lock.path === at).sort((a, b) => a.fence - b.fence);
            const holdersAt = table.holdersAt(at);
            if (holdersAt.length !== exact.length || holdersAt.some((lock, i) => lock !== exact[i])) expect(holdersAt, `holdersAt(${at})`).toEqual(exact);
            for (const who of holders) {
              for (const want of modes) {
                const covering = model.filter((lock) => (lock.path === at || below(at, lock.path)) && conflicts(lock, who.id, want));
                agree(table.coveringConflicts(who.id, at, want), covering, `coveringConflicts(${who.id}, ${at}, ${want})`);
                const under = model.filter((lock) => below(lock.path, at) && conflicts(lock, who.id, want));
                const exclusiveUnder = under.filter((lock) => lock.mode === "exclusive");
                const expected = (exclusiveUnder.length > 0 ? exclusiveUnder : under).map((lock) => lock.holder.id);
                const found = table.conflictBelow(who.id, at, want);
                if (found === undefined ? expected.length > 0 : !expected.includes(found.holderId)) {
                  expect(found?.holderId, `conflictBelow(${who.id}, ${at}, ${want})`).toBeOneOf(expected.length === 0 ? [undefined] : expected);
                }
              }
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
