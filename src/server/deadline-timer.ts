import type { MaybePromise, RegistryStore } from "../core/store.js";

/** Longest delay setTimeout takes (about 24.8 days). */
const MAX_DELAY = 2 ** 31 - 1;
/** After a tick the store could not make (it could not be reached), the next try waits this long. */
const RETRY_MS = 100;

/**
 * One timer for the whole registry, set to its next deadline (an agent
 * timing out, a lock expiring, a waiter's wait ending), so that waiters are
 * granted and events sent on time without polling or a timer per lock.
 * Call `rearm` after anything that may have moved the next deadline. A
 * timer set for an earlier time than needed is kept (it fires, finds
 * nothing due and re-arms), so a lock taken and released on every request
 * does not reset the timer every time. `view` gives the deadlines; `tick`
 * may answer later (a store that answers later): the timer re-arms once it
 * has, so that no two ticks are ever in flight.
 */
export function startDeadlineTimer(
  view: Pick<RegistryStore, "nextDeadline">,
  tick: () => MaybePromise<void>,
  now: () => number,
): { rearm(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;
  let ticking = false;
  let stopped = false;

  const clear = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
  };
  const rearm = () => {
    if (ticking || stopped) return;
    const next = view.nextDeadline() ?? Number.POSITIVE_INFINITY;
    if (next >= armedFor) return;
    clear();
    if (next === Number.POSITIVE_INFINITY) return;
    armedFor = next;
    timer = setTimeout(fire, Math.min(MAX_DELAY, Math.max(0, next - now())));
    timer.unref();
  };
  const ticked = () => {
    ticking = false;
    rearm();
  };
  const fire = () => {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const done = tick();
    if (!(done instanceof Promise)) return rearm();
    ticking = true;
    done.then(ticked, () => setTimeout(ticked, RETRY_MS).unref());
  };
  const stop = () => {
    stopped = true;
    clear();
  };
  return { rearm, stop };
}
