import type * as z from "zod/mini";
import type { DomainErrorName } from "../../protocol/errors.js";

/** Bad input to a core operation: the server answers -32602 naming `field`. Nothing was changed. */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = "InvalidInputError";
  }
}

/**
 * A documented domain error (see protocol/errors.ts). Nothing was changed. `data` goes into the error's data beside
 * `method` and `error` (a deadlock's `cycle`).
 */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorName,
    message: string,
    readonly data?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** A zod issue path as a field name: `["snapshot", "agents", 3, "id"]` → `snapshot.agents[3].id`. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (typeof part === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/**
 * The field a zod issue is about and what is wrong with it, in our words:
 * "is required" for a missing member (zod issues do not carry the input, so
 * presence is looked up in `input`), the unknown key for a strict object
 * (described by `unknownKey` when given).
 */
export function describeIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  unknownKey?: string,
): { path: PropertyKey[]; problem: string } {
  if (issue.code === "unrecognized_keys") {
    const where = issue.path.length === 0 ? "" : ` of ${fieldName(issue.path)}`;
    return { path: [...issue.path, issue.keys[0] as string], problem: unknownKey ?? `is not a known field${where}` };
  }
  if (issue.code === "invalid_type" && !isPresent(input, issue.path))
    return { path: issue.path, problem: "is required" };
  return { path: issue.path, problem: issue.message.replace(/^Invalid (input|option): /, "must be valid: ") };
}

function isPresent(value: unknown, path: readonly PropertyKey[]): boolean {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return false;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at !== undefined;
}

/** A short description of a value for error messages: `5`, `"abc"`, `an array`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return "an object";
  return String(value);
}
