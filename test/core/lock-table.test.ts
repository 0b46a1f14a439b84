// The conflict rule (src/core/conflict-rule.ts) against a brute-force
// statement of it on segment lists, and the lock table
// (src/core/lock-table.ts) against a list of locks checked by that same
// brute force: random adds, removals and mode changes over nested paths (a
// path can be a file, a directory of other locks, or both), with every
// query compared after every step.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LockClaim, conflicts as conflictRule } from "../../src/core/conflict-rule.js";
import { type Lock, type LockMode, LockTable } from "../../src/core/lock-table.js";
import { forEachAncestor, isChild, isWithin, parentOf, pathsOverlap } from "../../src/core/paths.js";

interface Holder {
  id: number;
}

const holders: Holder[] = [1, 2, 3].map((id) => ({ id }));
const segments = ["a", "b", "ab"];
const universe = [
  ...new Set(
    segments.flatMap((x) => [x, ...segments.flatMap((y) => [`${x}/${y}`, ...segments.map((z) => `${x}/${y}/${z}`)])]),
  ),
];
const modes: LockMode[] = ["exclusive", "shared"];

const step = fc.record({
  kind: fc.constantFrom("tryAdd", "tryAdd", "tryAdd", "remove", "setMode"),
  holder: fc.constantFrom(...holders),
  path: fc.constantFrom(...universe),
  mode: fc.constantFrom(...modes),
  pick: fc.nat(),
});

/** `dir` is `path` or an ancestor directory of it: its segments begin `path`'s. */
const covers = (dir: string, path: string): boolean => {
  const outer = segmentsOf(dir);
  const inner = segmentsOf(path);
  return outer.length <= inner.length && outer.every((segment, i) => inner[i] === segment);
};
const segmentLists = new Map<string, string[]>();
const segmentsOf = (path: string): string[] => {
  let segments = segmentLists.get(path);
  if (segments === undefined) segmentLists.set(path, (segments = path.split("/")));
  return segments;
};

/** The conflict rule stated plainly: other holder, not both shared, one path covers the other. */
const bruteForceRule = (a: LockClaim, b: LockClaim): boolean =>
  a.holder !== b.holder &&
  !(a.mode === "shared" && b.mode === "shared") &&
  (covers(a.path, b.path) || covers(b.path, a.path));

/** `a` (a lock in the table) conflicts with `holderId` taking `path` in `mode`, by the brute-force rule. */
const conflicts = (a: Lock<Holder>, holderId: number, path: string, mode: LockMode): boolean =>
  bruteForceRule({ holder: a.holder.id, path: a.path, mode: a.mode }, { holder: holderId, path, mode });
const below = (path: string, dir: string): boolean => path !== dir && covers(dir, path);

/** The same locks in any order; expect() runs only on a mismatch, for its message (it is slow). */
function agree(actual: readonly Lock<Holder>[], expected: readonly Lock<Holder>[], what: string): void {
  const want = new Set(expected);
  if (actual.length !== want.size || actual.some((lock) => !want.has(lock)))
    expect(new Set(actual), what).toEqual(want);
}

/**
 * Paths whose segments are prefixes of one another as strings (`a`, `ab`, `a.b`), so a test by characters rather than
 * segments would fail.
 */
const pathArb = fc
  .array(fc.constantFrom("a", "ab", "b", "a.b", "_", "__proto__"), { minLength: 1, maxLength: 4 })
  .map((segments) => segments.join("/"));
const claimArb = fc.record({
  holder: fc.integer({ min: 0, max: 3 }),
  path: pathArb,
  mode: fc.constantFrom<LockMode>("exclusive", "shared"),
});

describe("the conflict rule", () => {
  it("is the brute-force statement of the rule, and symmetric", () => {
    fc.assert(
      fc.property(claimArb, claimArb, (a, b) => {
        expect(conflictRule(a, b)).toBe(bruteForceRule(a, b));
        expect(conflictRule(b, a)).toBe(conflictRule(a, b));
      }),
      { numRuns: 2_000 },
    );
  });

  it("is decided on the paths by whole segments (pathsOverlap, isWithin, forEachAncestor, parentOf, isChild)", () => {
    fc.assert(
      fc.property(pathArb, pathArb, (a, b) => {
        expect(pathsOverlap(a, b)).toBe(covers(a, b) || covers(b, a));
        expect(isWithin(a, b)).toBe(covers(b, a));
        const ancestors: string[] = [];
        forEachAncestor(a, (dir) => ancestors.push(dir));
        const segments = a.split("/");
        expect(ancestors).toEqual(segments.slice(1).map((_, i) => segments.slice(0, i + 1).join("/")));
        expect(parentOf(a)).toBe(segments.length > 1 ? segments.slice(0, -1).join("/") : undefined);
        expect(isChild(a, b)).toBe(covers(b, a) && segments.length === segmentsOf(b).length + 1);
      }),
      { numRuns: 2_000 },
    );
  });
});

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
            const lock: Lock<Holder> = {
              path,
              holder,
              mode,
              fence: fence++,
              expiresAtMs: 0,
              heapIndex: -1,
              dir: undefined,
            };
            const blocking = model.filter((other) => conflicts(other, holder.id, path, mode));
            const answer = table.tryAdd(lock);
            if (blocking.length === 0) {
              expect(answer).toBeUndefined();
              model.push(lock);
            } else {
              expect(answer).toBeDefined();
              expect(
                blocking.some(
                  (other) =>
                    other.holder.id === answer?.holderId && (answer.path === undefined || answer.path === other.path),
                ),
              ).toBe(true);
            }
          } else if (model.length > 0) {
            const lock = model[pick % model.length] as Lock<Holder>;
            if (kind === "remove") {
              table.remove(lock);
              model = model.filter((other) => other !== lock);
            } else if (!model.some((other) => conflicts(other, lock.holder.id, lock.path, mode))) {
              table.setMode(lock, mode);
            }
          }
          expect(table.size).toBe(model.length);
          agree([...table.values()], model, "values()");
          for (const at of universe) {
            const exact = model.filter((lock) => lock.path === at).sort((a, b) => a.fence - b.fence);
            const holdersAt = table.holdersAt(at);
            if (holdersAt.length !== exact.length || holdersAt.some((lock, i) => lock !== exact[i]))
              expect(holdersAt, `holdersAt(${at})`).toEqual(exact);
            for (const who of holders) {
              for (const want of modes) {
                const covering = model.filter((lock) => covers(lock.path, at) && conflicts(lock, who.id, at, want));
                agree(
                  table.coveringConflicts(who.id, at, want),
                  covering,
                  `coveringConflicts(${who.id}, ${at}, ${want})`,
                );
                const under = model.filter((lock) => below(lock.path, at) && conflicts(lock, who.id, at, want));
                const exclusiveUnder = under.filter((lock) => lock.mode === "exclusive");
                const expected = (exclusiveUnder.length > 0 ? exclusiveUnder : under).map((lock) => lock.holder.id);
                const found = table.conflictBelow(who.id, at, want);
                if (found === undefined ? expected.length > 0 : !expected.includes(found.holderId)) {
                  expect(found?.holderId, `conflictBelow(${who.id}, ${at}, ${want})`).toBeOneOf(
                    expected.length === 0 ? [undefined] : expected,
                  );
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
