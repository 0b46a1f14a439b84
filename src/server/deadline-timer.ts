import type { RegistryStore } from "../core/store.js";

/** Longest delay setTimeout takes (about 24.8 days). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * One timer for the whole registry, set to its next deadline (an agent
 * timing out, a lock expiring, a waiter's wait ending), so that waiters are
 * granted and events sent on time without polling or a timer per lock.
 * Call `rearm` after anything that may have moved the next deadline. A
 * timer set for an earlier time than needed is kept (it fires, finds
 * nothing due and re-arms), so a lock taken and released on every request
 * does not reset the timer every time.
 */
export function startDeadlineTimer(registry: RegistryStore, now: () => number): { rearm(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;

  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
  };
  const rearm = () => {
    const next = registry.nextDeadline() ?? Number.POSITIVE_INFINITY;
    if (next >= armedFor) return;
    stop();
    if (next === Number.POSITIVE_INFINITY) return;
    armedFor = next;
    timer = setTimeout(fire, Math.min(MAX_DELAY, Math.max(0, next - now())));
    timer.unref();
  };
  const fire = () => {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    registry.tick();
    rearm();
  };
  return { rearm, stop };
}
