// precheck (protocol/precheck.ts) must never accept what its zod schema
// refuses or would change, and must accept valid snapshot entries (or the
// fast path would never run).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { methods } from "../../protocol/methods.js";
import { precheck } from "../../protocol/precheck.js";
import { SnapshotAgentEntry, SnapshotV1AgentEntry } from "../../protocol/snapshot.js";

const path = fc.stringMatching(/^[a-z]{1,3}(\/[a-z]{1,3}){0,3}$/);
const int = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.maxSafeInteger(), fc.constant(Number.MAX_SAFE_INTEGER));
const validEntry = fc
  .record({
    id: fc.integer({ min: 1, max: 1000 }),
    name: fc.string(),
    state: fc.constantFrom("active", "crashed", "gone"),
    last_seen_ms: fc.maxSafeInteger(),
    edit_count: fc.nat(),
    paths: fc.uniqueArray(path, { maxLength: 4 }),
  })
  .map(({ paths, ...rest }) => ({
    ...rest,
    locked_paths: Object.fromEntries(paths.map((p, i) => [p, 1000 + i])),
    lock_fences: Object.fromEntries(paths.map((p, i) => [p, 1 + i])),
    shared_paths: paths.slice(0, 1),
  }));

const strange = fc.oneof(fc.anything(), int, fc.double(), fc.constant(Number.NaN), fc.constant(2 ** 53), fc.constant(-1), fc.constant(0), fc.constant(null), fc.constant([]), fc.constant({}));

type Entry = Record<string, unknown>;
const mutated = fc.tuple(validEntry, fc.nat(7), fc.nat(4), strange).map(([entry, field, how, value]) => {
  const out: Entry = { ...entry, locked_paths: { ...entry.locked_paths }, lock_fences: { ...entry.lock_fences }, shared_paths: [...entry.shared_paths] };
  const key = Object.keys(out)[field] as string;
  if (how === 0) delete out[key];
  else if (how === 1) out[key] = value;
  else if (how === 2) out.extra = value;
  else if (how === 3) (out.locked_paths as Entry)["x/y"] = value;
  else (out.lock_fences as Entry)["x/y"] = value;
  return out;
});

/** precheck(v) true ⇒ zod accepts v and returns it unchanged. */
function sound(schema: Parameters<typeof precheck>[0]) {
  const check = precheck(schema);
  return (value: unknown) => {
    if (!check(value)) return;
    const parsed = schema.safeParse(value);
    expect(parsed.success, JSON.stringify(value)).toBe(true);
    expect(parsed.data).toEqual(value);
  };
}

describe("precheck", () => {
  for (const [name, schema] of [["format 2", SnapshotAgentEntry], ["format 1", SnapshotV1AgentEntry]] as const) {
    const check = precheck(schema);
    it(`accepts every valid ${name} agent entry`, () => {
      fc.assert(
        fc.property(validEntry, (entry) => {
          const value = name === "format 2" ? entry : { ...entry, lock_fences: undefined, shared_paths: undefined };
          if (name === "format 1") {
            delete (value as Entry).lock_fences;
            delete (value as Entry).shared_paths;
          }
          expect(check(value)).toBe(true);
        }),
      );
    });
    it(`never accepts a ${name} agent entry that zod refuses or would change`, () => {
      fc.assert(fc.property(mutated, sound(schema)), { numRuns: 2000 });
      fc.assert(fc.property(fc.anything(), sound(schema)), { numRuns: 500 });
    });
  }

  it("is sound for every method's params and result", () => {
    for (const spec of Object.values(methods)) {
      fc.assert(fc.property(fc.anything(), sound(spec.params)), { numRuns: 50 });
      fc.assert(fc.property(fc.anything(), sound(spec.result)), { numRuns: 50 });
    }
  });
});
