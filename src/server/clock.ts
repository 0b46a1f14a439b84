import { DomainError } from "../core/errors.js";

/** The time source of a server: the system clock, or a manual one moved by `clock_set`. */
export interface ServerClock {
  readonly kind: "system" | "manual";
  now(): number;
  /** Move a manual clock; throws a DomainError on the system clock or when moving backwards. */
  set(nowMs: number): number;
}

export function systemClock(): ServerClock {
  return {
    kind: "system",
    now: Date.now,
    set: () => {
      throw new DomainError(
        "clock_not_manual",
        "the sidecar runs on the system clock; start it with --clock=manual to set the time",
      );
    },
  };
}

/** Starts at 0 and moves only by `set`. */
export function manualClock(): ServerClock {
  let current = 0;
  return {
    kind: "manual",
    now: () => current,
    set: (nowMs) => {
      if (nowMs < current) {
        throw new DomainError(
          "clock_backwards",
          `now_ms ${nowMs} is before the current time ${current}; the clock only moves forward`,
        );
      }
      current = nowMs;
      return current;
    },
  };
}
