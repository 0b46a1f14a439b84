// precheck (protocol/precheck.ts) must never accept what its zod schema
// refuses or would change, and must accept valid snapshot entries (or the
// fast path would never run).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { methodIndex } from "../../protocol/method-index.js";
import { methods } from "../../protocol/methods.js";
import { precheck } from "../../protocol/precheck.js";
import { type Plan, compilePlan, schemaAt } from "../../protocol/precheck-plan.js";
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

const strange = fc.oneof(
  fc.anything(),
  int,
  fc.double(),
  fc.constant(Number.NaN),
  fc.constant(2 ** 53),
  fc.constant(-1),
  fc.constant(0),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
);

type Entry = Record<string, unknown>;
const mutated = fc.tuple(validEntry, fc.nat(7), fc.nat(4), strange).map(([entry, field, how, value]) => {
  const out: Entry = {
    ...entry,
    locked_paths: { ...entry.locked_paths },
    lock_fences: { ...entry.lock_fences },
    shared_paths: [...entry.shared_paths],
  };
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
  for (const [name, schema] of [
    ["format 2", SnapshotAgentEntry],
    ["format 1", SnapshotV1AgentEntry],
  ] as const) {
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

  it(
    "lets the envelopes' usual params through without zod " +
      "(the path every call of a Harn host takes), and only those",
    () => {
      const builtin = precheck(methods.builtin_call.params);
      expect(builtin({ name: "hostlib_code_index_lock_try", args: [{ agent_id: 1, path: "a" }] })).toBe(true);
      expect(builtin({ name: "x", args: [] })).toBe(true);
      expect(builtin({ name: "x", args: [null] })).toBe(true);
      expect(builtin({ name: "x", args: [Object.create(null)] })).toBe(true);
      for (const refused of [
        { name: "x", args: [{}, {}] },
        { name: "x", args: [[]] },
        { name: "x", args: [5] },
        { name: 5, args: [] },
        { name: "x" },
        { name: "x", args: [], more: 1 },
        { name: "x", args: [new Date()] },
      ]) {
        expect(builtin(refused), JSON.stringify(refused)).toBe(false);
      }
      const hostCall = precheck(methods["host/call"].params);
      expect(hostCall({ sessionId: "s", name: "code_index.status", args: null })).toBe(true);
      expect(hostCall({ name: "code_index.status", args: { seq: 1 } })).toBe(true);
      expect(hostCall({ name: "code_index.status" })).toBe(true);
      expect(hostCall({ sessionId: 1, name: "code_index.status" })).toBe(false);
      expect(hostCall({ name: "code_index.status", args: [] })).toBe(false);
      expect(precheck(methods.current_agent_set.params)({ agent_id: null })).toBe(true);
      expect(precheck(methods.lock_renew.params)({ agent_id: 1, paths: ["a", "b"] })).toBe(true);
      expect(precheck(methods.lock_renew.params)({ agent_id: 1, paths: [] })).toBe(false);
    },
  );

  it("is sound for envelope-shaped values", () => {
    const args = fc.array(fc.oneof(fc.constant(null), fc.object(), fc.anything()), { maxLength: 3 });
    const envelope = fc.record(
      { name: fc.oneof(fc.string(), fc.anything()), args, sessionId: fc.oneof(fc.string(), fc.anything()) },
      { requiredKeys: [] },
    );
    for (const schema of [methods.builtin_call.params, methods["host/call"].params]) {
      fc.assert(fc.property(envelope, sound(schema)), { numRuns: 500 });
      fc.assert(
        fc.property(
          fc.record({ name: fc.string(), args: fc.oneof(args, fc.object(), fc.constant(null)) }),
          sound(schema),
        ),
        { numRuns: 500 },
      );
    }
  });

  it("lets through without zod the usual params of a Harn host's first calls (zod loads on first use)", () => {
    const plans = Object.fromEntries(Object.entries(methodIndex).map(([name, entry]) => [name, entry.precheck]));
    const usual: [keyof typeof methods, unknown][] = [
      ["initialize", { client_name: "host", events: true }],
      ["agent_register", { name: "editor" }],
      ["lock_try", { agent_id: 1, path: "a" }],
      ["lock_acquire", { agent_id: 1, paths: ["a"], mode: "shared", wait_ms: 0 }],
      ["version_record", { agent_id: 1, path: "a", op: "write" }],
      ["builtin_call", { name: "hostlib_code_index_lock_try", args: [{ agent_id: 1, path: "a" }] }],
    ];
    for (const [name, params] of usual) {
      const check = compileWithoutZod(plans[name] as Plan);
      expect(check(params), name).toBe(true);
    }
  });

  it("leaves to zod only parts that name a sub-schema of their method", () => {
    for (const [name, entry] of Object.entries(methodIndex)) {
      for (const path of zodSteps(entry.precheck)) {
        const schema = schemaAt(methods[name as keyof typeof methods].params, path) as unknown as { _zod?: unknown };
        expect(schema?._zod, `${name}: ${path.join(".")}`).toBeDefined();
      }
    }
  });
});

/** A plan compiled with every zod step failing the test. */
function compileWithoutZod(plan: Plan) {
  return compilePlan(plan, (path) => () => {
    throw new Error(`zod asked for at ${path.join(".")}`);
  });
}

/** The paths of a plan's zod steps. */
function zodSteps(plan: Plan): string[][] {
  switch (plan.type) {
    case "zod":
      return [plan.path];
    case "array":
      return zodSteps(plan.element);
    case "nullable":
    case "default":
      return zodSteps(plan.inner);
    case "object":
      return plan.fields.flatMap((field) => zodSteps(field.check));
    default:
      return [];
  }
}
