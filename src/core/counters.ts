import { MAX_ID } from "../../protocol/constants.js";
import { DomainError } from "./errors.js";

/**
 * Every counter the registry hands values from stops at 2^53-1, the largest
 * integer a JSON number keeps exactly: past it values would round and
 * repeat. A call that needs more values than are left is refused with
 * `id_space_exhausted` before it changes anything. The names below are how
 * the errors call each counter.
 */
export const AGENT_IDS = "the agent id counter (next_id)";
export const FENCES = "the fence counter (next_fence)";
export const VERSION_SEQS = "the version seq counter (current_seq)";
export const WAIT_IDS = "the wait id counter";
export const EVENT_SEQS = "the event seq counter (event_seq)";

/** An agent's edit_count, as the errors call it. */
export function editCount(agentId: number): string {
  return `edit_count of agent ${agentId}`;
}

/** Values left from `next` (the next one to hand out) up to 2^53-1; exact for any `next` up to 2^53. */
export function roomFrom(next: number): number {
  return MAX_ID + 1 - next;
}

/** Why `counter` cannot hand out `needed` more values from `next`, or undefined when it can. */
export function exhaustion(counter: string, next: number, needed: number): string | undefined {
  if (needed <= roomFrom(next)) return undefined;
  return `${counter} is exhausted: ${needed} more would pass 2^53-1 (the next is ${next}); nothing was changed`;
}

/** Throw `id_space_exhausted` when `counter` cannot hand out `needed` more values from `next`. */
export function checkRoom(counter: string, next: number, needed: number): void {
  const problem = exhaustion(counter, next, needed);
  if (problem !== undefined) throw new DomainError("id_space_exhausted", problem);
}
