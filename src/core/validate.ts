import { HashInput, MAX_ID } from "../../protocol/common.js";
import { InvalidInputError, describeValue } from "./errors.js";

/** Agent ids are integers from 1 to 2^53-1 (deliberate change: the seed took any u64). */
export function checkAgentId(id: unknown, field = "agent_id"): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    throw new InvalidInputError(field, `must be an integer from 1 to 2^53-1, got ${describeValue(id)}`);
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

/** A hash as integer, bigint or decimal string → canonical decimal string of a u64. */
export function canonicalHash(hash: unknown, field = "hash"): string {
  const parsed = HashInput.safeParse(hash);
  if (!parsed.success) throw new InvalidInputError(field, parsed.error.issues[0]?.message ?? "is not a valid hash");
  return parsed.data;
}
