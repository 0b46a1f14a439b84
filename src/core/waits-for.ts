import type { DeadlockEdge } from "../../protocol/events.js";
import { claim, conflicts } from "./conflict-rule.js";
import type { LockMode } from "./lock-table.js";
import { isWithin } from "./paths.js";
import type { RegistryData } from "./registry-data.js";
import { ALL, type IdRange, ScanMarks, aheadOf } from "./wait-index.js";
import type { WaitQueue } from "./wait-queue.js";

export type { DeadlockEdge };

/**
 * The cycle of waits that `requester` would close by waiting for `paths`
 * in `mode`, or undefined when waiting closes none.
 *
 * "A waits for B" when a queued request of A conflicts (conflict-rule.ts)
 * with a lock B holds, or with a request of B queued ahead of A's: FIFO
 * without barging keeps A waiting until B's request has gone. A lock left
 * by the crash lock-delay belongs to nobody and goes by itself: no one
 * waits for its crashed holder. The new request would wait for the agents
 * it conflicts with now (every queued request is ahead of it); it closes a
 * cycle when one of them already waits, directly or through others, for
 * the requester. The search starts from those agents and follows only
 * agents that wait (one holding locks but waiting for nothing ends a
 * path), each once, and looks at each queued claim and each set of lock
 * holders at most once (ScanMarks): its cost is that of the waiting agents
 * reachable from the request, never a scan of all agents or locks.
 *
 * The cycle comes back as edges from the requester round to it: `agent_id`
 * waits for `waits_for` because of its request for `path` (a lock of
 * `waits_for` on it, on a directory above it or below it, or a request of
 * `waits_for` queued ahead of it that conflicts with it).
 */
export function findCycle<R>(
  data: RegistryData,
  queue: WaitQueue<R>,
  requester: number,
  paths: readonly string[],
  mode: LockMode,
): DeadlockEdge[] | undefined {
  const reached = new Map<number, { from: number; path: string }>();
  const stack: number[] = [];
  const marks = new ScanMarks();
  const holdersSeen = new Set<string>();
  let closing: { from: number; path: string } | undefined;

  /** `from` waits for `target` on `path`: true when that closes the cycle. */
  const reach = (from: number, path: string, target: number): boolean => {
    if (target === requester) {
      closing = { from, path };
      return true;
    }
    if (reached.has(target) || queue.of(target) === undefined) return false;
    reached.set(target, { from, path });
    stack.push(target);
    return false;
  };

  /**
   * Follow the edges of `agent`'s claim on `path` in `mode` to the holders
   * and to the requests in `range`. The requester's own claims (`root`)
   * leave no marks: its locks and other queued requests must still be
   * found by the agents searched from it.
   */
  const follow = (agent: number, path: string, claimMode: LockMode, range: IdRange, root: boolean): boolean => {
    const key = `${claimMode === "exclusive" ? "x" : "s"}${path}`;
    if (root || !holdersSeen.has(key)) {
      if (!root) holdersSeen.add(key);
      for (const lock of data.table.coveringConflicts(agent, path, claimMode)) {
        if (!data.isDelayed(lock) && reach(agent, path, lock.holder.id)) return true;
      }
      let closed = false;
      data.table.forEachHolderBelow(agent, path, claimMode, (holder) => {
        if (closed || (holder !== requester && queue.of(holder) === undefined)) return;
        if (holdsBelow(data, holder, path, claimMode) && reach(agent, path, holder)) closed = true;
      });
      if (closed) return true;
    }
    return queue.index.forEachConflict(
      agent,
      path,
      claimMode,
      range,
      (request) => reach(agent, path, request.agentId),
      root ? {} : { marks },
    );
  };

  let found = paths.some((path) => follow(requester, path, mode, ALL, true));
  while (!found && stack.length > 0) {
    const agent = stack.pop() as number;
    for (const waiter of queue.of(agent) ?? []) {
      found = waiter.paths.some((path) => follow(agent, path, waiter.mode, aheadOf(waiter.id), false));
      if (found) break;
    }
  }
  if (closing === undefined) return undefined;
  const cycle: DeadlockEdge[] = [{ agent_id: closing.from, path: closing.path, waits_for: requester }];
  for (let at = closing.from; at !== requester; ) {
    const edge = reached.get(at) as { from: number; path: string };
    cycle.unshift({ agent_id: edge.from, path: edge.path, waits_for: at });
    at = edge.from;
  }
  return cycle;
}

/**
 * True when `holder`, whom the lock table counts below `path`, holds a live
 * lock there that conflicts with `mode` (the count may be of a lock the
 * crash lock-delay left, which belongs to nobody). Without such locks the
 * count answers at once; with them, the holder's locks are looked at.
 */
function holdsBelow(data: RegistryData, holder: number, path: string, mode: LockMode): boolean {
  if (data.delayed.size === 0) return true;
  const wanted = claim(0, path, mode);
  let held = false;
  data.agents.get(holder)?.locks.forEach((lock) => {
    if (lock.path !== path && isWithin(lock.path, path) && conflicts(wanted, claim(holder, lock.path, lock.mode)))
      held = true;
  });
  return held;
}

/** A cycle as words: `agent 1 waits for agent 2 on "a", agent 2 waits for agent 1 on "b"`. */
export function describeCycle(cycle: readonly DeadlockEdge[]): string {
  return cycle
    .map((edge) => `agent ${edge.agent_id} waits for agent ${edge.waits_for} on ${JSON.stringify(edge.path)}`)
    .join(", ");
}
