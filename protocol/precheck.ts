import * as z from "zod/mini";
import { type Plan, type Precheck, byZod, compilePlan, schemaAt } from "./precheck-plan.js";

interface Def {
  type: string;
  format?: string;
  checks?: {
    _zod: { def: { check: string; value?: unknown; inclusive?: boolean; minimum?: unknown; maximum?: unknown } };
  }[];
  entries?: Record<string, unknown>;
  values?: unknown[];
  element?: z.ZodMiniType;
  shape?: Record<string, z.ZodMiniType>;
  catchall?: z.ZodMiniType;
  innerType?: z.ZodMiniType;
}

const defOf = (schema: z.ZodMiniType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The range of a safe-integer schema (`z.int()` with inclusive minimum/maximum checks), or undefined for any other
 * schema.
 */
function safeIntegerRange(schema: z.ZodMiniType): { min: number; max: number } | undefined {
  const def = defOf(schema);
  if (def.type !== "number" || def.format !== "safeint") return undefined;
  let min = Number.MIN_SAFE_INTEGER;
  let max = Number.MAX_SAFE_INTEGER;
  for (const check of def.checks ?? []) {
    const { check: kind, value, inclusive } = check._zod.def;
    if (typeof value !== "number" || inclusive !== true) return undefined;
    if (kind === "greater_than") min = Math.max(min, value);
    else if (kind === "less_than") max = Math.min(max, value);
    else return undefined;
  }
  return { min, max };
}

/**
 * The range of an integer schema (`z.int()`, optionally with inclusive minimum and maximum), read from the schema
 * itself.
 */
export function integerBounds(schema: z.ZodMiniType): { min: number; max: number } {
  const range = safeIntegerRange(schema);
  if (range === undefined) throw new Error("integerBounds: not an integer schema with inclusive bounds");
  return range;
}

/**
 * Compile a zod schema into a plain predicate, for validating very many
 * values fast (a snapshot's 100,000 agent entries: about 10× faster than
 * zod). Derived from the schema itself, never written twice (see planOf).
 * A property test holds every precheck to its schema. A true answer means
 * zod would accept the value and give it back unchanged; on false, run zod
 * for its error.
 */
export function precheck(schema: z.ZodMiniType): Precheck {
  return compilePlan(planOf(schema), (path) => byZod(() => schemaAt(schema, path)));
}

const isJsonScalar = (value: unknown): value is string | number | boolean | null =>
  value === null || typeof value === "string" || typeof value === "boolean" || Number.isFinite(value);

/**
 * How to precheck a schema (see {@link Plan}): strict objects, optional
 * keys, defaults (when the key is there), safe integers with
 * minimum/maximum checks, plain strings, booleans, enums, literals,
 * nullables and arrays (with length checks) are checked inline, and so is
 * a custom check whose JSON Schema (its meta) says "object of integers"
 * (integersByPath in common.ts) or just "object" (ParamsObject); anything
 * else (other custom checks, records, transforms) is left to the schema's
 * own safeParse for that part, counting only when zod gives the very same
 * value back. `path` is where `schema` is in the schema the plan is for.
 */
export function planOf(schema: z.ZodMiniType, path: string[] = []): Plan {
  const def = defOf(schema);
  const checks = def.checks ?? [];
  const fallback: Plan = { type: "zod", path };
  switch (def.type) {
    case "number": {
      const range = safeIntegerRange(schema);
      return range === undefined ? fallback : { type: "integer", ...range };
    }
    case "string": {
      let minLength = 0;
      for (const check of checks) {
        const { check: kind, minimum } = check._zod.def;
        if (kind !== "min_length" || typeof minimum !== "number") return fallback;
        minLength = Math.max(minLength, minimum);
      }
      return { type: "string", minLength };
    }
    case "boolean":
      return checks.length === 0 ? { type: "boolean" } : fallback;
    case "enum":
    case "literal": {
      const values = def.type === "enum" ? Object.values(def.entries ?? {}) : (def.values ?? []);
      return checks.length === 0 && values.every(isJsonScalar) ? { type: "oneOf", values } : fallback;
    }
    case "array": {
      if (def.element === undefined) return fallback;
      let minLength = 0;
      let maxLength = Number.POSITIVE_INFINITY;
      for (const check of checks) {
        const { check: kind, minimum, maximum } = check._zod.def;
        if (kind === "min_length" && typeof minimum === "number") minLength = Math.max(minLength, minimum);
        else if (kind === "max_length" && typeof maximum === "number") maxLength = Math.min(maxLength, maximum);
        else return fallback;
      }
      const element = planOf(def.element, [...path, "element"]);
      return Number.isFinite(maxLength)
        ? { type: "array", minLength, maxLength, element }
        : { type: "array", minLength, element };
    }
    case "nullable":
    case "default":
      if (checks.length > 0 || def.innerType === undefined) return fallback;
      return { type: def.type, inner: planOf(def.innerType, [...path, "innerType"]) };
    case "object": {
      if (
        checks.length > 0 ||
        def.shape === undefined ||
        def.catchall === undefined ||
        defOf(def.catchall).type !== "never"
      )
        return fallback;
      const fields = Object.entries(def.shape).map(([key, field]) => {
        const fieldDef = defOf(field);
        const optional = fieldDef.type === "optional" && fieldDef.innerType !== undefined;
        const check = optional
          ? planOf(fieldDef.innerType as z.ZodMiniType, [...path, "shape", key, "innerType"])
          : planOf(field, [...path, "shape", key]);
        return { key, optional, check };
      });
      return { type: "object", fields };
    }
    case "custom": {
      const meta = z.globalRegistry.get(schema) as
        | { type?: unknown; additionalProperties?: Record<string, unknown> }
        | undefined;
      if (meta?.type === "object" && Object.keys(meta).length === 1) return { type: "plainObject" };
      const values = meta?.additionalProperties;
      if (meta?.type !== "object" || values?.type !== "integer" || Object.keys(meta).length !== 2) return fallback;
      if (
        Object.keys(values).some(
          (key) => !(key === "type" || ((key === "minimum" || key === "maximum") && typeof values[key] === "number")),
        )
      )
        return fallback;
      const min = (values.minimum as number | undefined) ?? Number.MIN_SAFE_INTEGER;
      const max = (values.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER;
      return { type: "integerRecord", min, max };
    }
    default:
      return fallback;
  }
}
