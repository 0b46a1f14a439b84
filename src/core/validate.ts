import type { LockMode } from "../../protocol/common.js";
import {
  AGENT_ID_RANGE,
  DEFAULT_EDIT_OP,
  DEFAULT_LOCK_MODE,
  EDIT_OPS,
  LOCK_MODES,
  MAX_ID,
  MAX_PATHS_PER_ACQUIRE,
} from "../../protocol/constants.js";
import { zodSchemas } from "../../protocol/on-demand.js";
import { InvalidInputError, describeValue } from "./errors.js";
import { normalizePath } from "./paths.js";
import type { EditOpName } from "./version-log.js";

/** Agent ids are integers from 1 to 2^53-1 (deliberate change: the seed took any u64). */
export function checkAgentId(id: unknown, field = "agent_id"): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    throw new InvalidInputError(field, `${AGENT_ID_RANGE}, got ${describeValue(id)}`);
  }
  return id;
}

/** A count or sequence number: an integer from `min` to 2^53-1. */
export function checkInteger(value: unknown, field: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > MAX_ID) {
    throw new InvalidInputError(field, `must be an integer from ${min} to 2^53-1, got ${describeValue(value)}`);
  }
  return value;
}

/** Throw unless `now + ms` (a deadline `field` asks for) is at most 2^53-1 ms; `what` names it in the message. */
export function checkDeadline(now: number, ms: number, field: string, what: string): void {
  if (!Number.isSafeInteger(now + ms)) throw new InvalidInputError(field, `puts ${what} past 2^53-1 ms`);
}

/** A hash as integer, bigint or decimal string → canonical decimal string of a u64. */
export function canonicalHash(hash: unknown, field = "hash"): string {
  const parsed = zodSchemas().HashInput.safeParse(hash);
  if (!parsed.success) throw new InvalidInputError(field, parsed.error.issues[0]?.message ?? "is not a valid hash");
  return parsed.data;
}

/** 1 to {@link MAX_PATHS_PER_ACQUIRE} paths, normalised, duplicates dropped (first kept). */
export function checkPaths(paths: unknown): string[] {
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > MAX_PATHS_PER_ACQUIRE) {
    throw new InvalidInputError("paths", `must be a list of 1 to ${MAX_PATHS_PER_ACQUIRE} paths`);
  }
  if (paths.length === 1) return [normalizePath(paths[0] as string, "paths[0]")];
  return [...new Set(paths.map((path, index) => normalizePath(path as string, `paths[${index}]`)))];
}

/** A lock mode; the default when undefined. */
export function checkMode(mode: unknown): LockMode {
  if (mode === undefined) return DEFAULT_LOCK_MODE;
  if ((LOCK_MODES as readonly unknown[]).includes(mode)) return mode as LockMode;
  throw new InvalidInputError("mode", `must be ${LOCK_MODES.join(" or ")}, got ${JSON.stringify(mode)}`);
}

/** One of the version log's operations; the default when undefined. */
export function checkOp(op: unknown): EditOpName {
  if (op === undefined) return DEFAULT_EDIT_OP;
  if ((EDIT_OPS as readonly unknown[]).includes(op)) return op as EditOpName;
  throw new InvalidInputError("op", `must be one of ${EDIT_OPS.join(", ")}, got ${JSON.stringify(op)}`);
}

/** An agent name: any string. */
export function checkName(name: unknown): void {
  if (typeof name !== "string") throw new InvalidInputError("name", "must be a string");
}
