import type * as z from "zod/mini";

/** A predicate that is true only for values the schema accepts and returns unchanged. */
export type Precheck = (value: unknown) => boolean;

/** A JSON value a literal or enum may have. */
type JsonScalar = string | number | boolean | null;

/**
 * How a precheck tests a value, read from a zod schema by planOf
 * (precheck.ts): plain data, so that it can be made ahead of time
 * (protocol/method-index.json) and compiled without zod. A `zod` step
 * leaves its part of the value to the sub-schema at `path` (the keys that
 * lead to it from the schema's definition, see {@link schemaAt}).
 */
export type Plan =
  | { type: "integer"; min: number; max: number }
  | { type: "string"; minLength: number }
  | { type: "boolean" }
  | { type: "oneOf"; values: JsonScalar[] }
  | { type: "array"; minLength: number; maxLength?: number; element: Plan }
  | { type: "nullable"; inner: Plan }
  | { type: "default"; inner: Plan }
  | { type: "object"; fields: { key: string; optional: boolean; check: Plan }[] }
  | { type: "plainObject" }
  | { type: "integerRecord"; min: number; max: number }
  | { type: "zod"; path: string[] };

/**
 * The sub-schema of `schema` at `path`: each key is looked up in a schema's definition, or in a plain object (a
 * shape).
 */
export function schemaAt(schema: z.ZodMiniType, path: readonly string[]): z.ZodMiniType {
  let node: unknown = schema;
  for (const key of path) {
    const holder = node as { _zod?: { def: Record<string, unknown> } } & Record<string, unknown>;
    node = (holder._zod?.def ?? holder)[key];
  }
  return node as z.ZodMiniType;
}

/**
 * A precheck by zod itself: it accepts the value and gives the very same value back. `schema` is asked for on the
 * first check.
 */
export function byZod(schema: () => z.ZodMiniType): Precheck {
  let resolved: z.ZodMiniType | undefined;
  return (value) => {
    const parsed = (resolved ??= schema()).safeParse(value);
    return parsed.success && Object.is(parsed.data, value);
  };
}

/**
 * Compile a plan into a predicate. A `zod` step becomes `fallback(path)`.
 * A true answer means the schema accepts the value and gives it back
 * unchanged; on false, run zod for its error.
 */
export function compilePlan(plan: Plan, fallback: (path: string[]) => Precheck): Precheck {
  switch (plan.type) {
    case "integer": {
      const { min, max } = plan;
      return (value) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
    }
    case "string": {
      const { minLength } = plan;
      return (value) => typeof value === "string" && value.length >= minLength;
    }
    case "boolean":
      return (value) => typeof value === "boolean";
    case "oneOf": {
      const allowed = new Set<unknown>(plan.values);
      return (value) => allowed.has(value);
    }
    case "array": {
      const { minLength } = plan;
      const maxLength = plan.maxLength ?? Number.POSITIVE_INFINITY;
      const element = compilePlan(plan.element, fallback);
      return (value) => {
        if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) return false;
        for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
        return true;
      };
    }
    case "nullable": {
      const inner = compilePlan(plan.inner, fallback);
      return (value) => value === null || inner(value);
    }
    case "default": {
      const inner = compilePlan(plan.inner, fallback);
      return (value) => value !== undefined && inner(value);
    }
    case "object": {
      const fields = plan.fields.map(({ key, optional, check }) => ({
        key,
        optional,
        check: compilePlan(check, fallback),
      }));
      const known = new Set(plan.fields.map(({ key }) => key));
      return (value) => {
        if (!isPlainObject(value)) return false;
        const record = value as Record<string, unknown>;
        for (const { key, optional, check } of fields) {
          const field = record[key];
          if (field === undefined ? !optional : !check(field)) return false;
        }
        for (const key in record) if (!known.has(key)) return false;
        return true;
      };
    }
    case "plainObject":
      return isPlainObject;
    case "integerRecord": {
      const { min, max } = plan;
      return (value) => {
        if (!isPlainObject(value)) return false;
        const record = value as Record<string, unknown>;
        for (const key in record) {
          const n = record[key];
          if (!Number.isSafeInteger(n) || (n as number) < min || (n as number) > max) return false;
        }
        return true;
      };
    }
    case "zod":
      return fallback(plan.path);
  }
}

/** A plain object (not an array, no prototype but Object's or none). */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
