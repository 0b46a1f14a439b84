import * as z from "zod/mini";

/** A predicate that is true only for values the schema accepts and returns unchanged. */
export type Precheck = (value: unknown) => boolean;

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
 * zod). Derived from the schema itself, never written twice: strict
 * objects, optional keys, safe integers with minimum/maximum checks, plain
 * strings, enums, literals, nullables and arrays (with length checks) are
 * checked inline, and so is a custom check whose JSON Schema (its meta)
 * says "object of integers" (integersByPath in common.ts) or just
 * "object" (ParamsObject); anything else (other custom checks,
 * records, transforms) falls back to the schema's own safeParse for that
 * part, counting only when zod gives the very same value back. A property
 * test holds every precheck to its schema. A true answer means zod would accept the value
 * and give it back unchanged; on false, run zod for its error.
 */
export function precheck(schema: z.ZodMiniType): Precheck {
  const def = defOf(schema);
  const checks = def.checks ?? [];
  const fallback: Precheck = (value) => {
    const parsed = schema.safeParse(value);
    return parsed.success && Object.is(parsed.data, value);
  };
  switch (def.type) {
    case "number": {
      const range = safeIntegerRange(schema);
      if (range === undefined) return fallback;
      const { min, max } = range;
      return (value) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
    }
    case "string": {
      let minLength = 0;
      for (const check of checks) {
        const { check: kind, minimum } = check._zod.def;
        if (kind !== "min_length" || typeof minimum !== "number") return fallback;
        minLength = Math.max(minLength, minimum);
      }
      return (value) => typeof value === "string" && value.length >= minLength;
    }
    case "enum": {
      const allowed = new Set(Object.values(def.entries ?? {}));
      return checks.length === 0 ? (value) => allowed.has(value) : fallback;
    }
    case "literal": {
      const allowed = new Set(def.values ?? []);
      return checks.length === 0 ? (value) => allowed.has(value) : fallback;
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
      const element = precheck(def.element);
      return (value) => {
        if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) return false;
        for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
        return true;
      };
    }
    case "nullable": {
      if (checks.length > 0 || def.innerType === undefined) return fallback;
      const inner = precheck(def.innerType);
      return (value) => value === null || inner(value);
    }
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
        const optional = fieldDef.type === "optional";
        return {
          key,
          optional,
          check: precheck(optional && fieldDef.innerType !== undefined ? fieldDef.innerType : field),
        };
      });
      const known = new Set(Object.keys(def.shape));
      return (value) => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
        const record = value as Record<string, unknown>;
        for (const { key, optional, check } of fields) {
          const field = record[key];
          if (field === undefined ? !optional : !check(field)) return false;
        }
        for (const key in record) if (!known.has(key)) return false;
        return Object.getPrototypeOf(record) === Object.prototype || Object.getPrototypeOf(record) === null;
      };
    }
    case "custom": {
      const meta = z.globalRegistry.get(schema) as
        | { type?: unknown; additionalProperties?: Record<string, unknown> }
        | undefined;
      if (meta?.type === "object" && Object.keys(meta).length === 1) return isPlainObject;
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
      return (value) => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
        const record = value as Record<string, unknown>;
        for (const key in record) {
          const n = record[key];
          if (!Number.isSafeInteger(n) || (n as number) < min || (n as number) > max) return false;
        }
        return Object.getPrototypeOf(record) === Object.prototype || Object.getPrototypeOf(record) === null;
      };
    }
    default:
      return fallback;
  }
}

/** A plain object (not an array, no prototype but Object's or none). */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
