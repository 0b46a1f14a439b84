import { DomainError } from "../../core/errors.js";
import type { ServerClock } from "../../server/clock.js";

/**
 * The clock of a sidecar on PostgreSQL state: the database's. With the
 * system clock, this machine's clock corrected by the offset last seen
 * from the database (for timers; every change runs at the time the
 * database gave its entry). With a manual clock, the log's time: `set`
 * only checks and remembers the time, which the `tick` that follows
 * carries into the log (see PgState).
 */
export interface PgClock extends ServerClock {
  /** What the database said its time was, just now. */
  observe(dbNow: number): void;
  /** The time a clock_set asked for, taken once by the tick that follows it. */
  takeSetTime(): number | undefined;
}

export function pgClock(kind: "system" | "manual", logTime: () => number): PgClock {
  let offset = 0;
  let setTime: number | undefined;
  if (kind === "system") {
    return {
      kind,
      now: () => Date.now() + offset,
      set: () => {
        throw new DomainError(
          "clock_not_manual",
          "the sidecar runs on the system clock; start it with --clock=manual to set the time",
        );
      },
      observe: (dbNow) => {
        offset = dbNow - Date.now();
      },
      takeSetTime: () => undefined,
    };
  }
  return {
    kind,
    now: logTime,
    set: (nowMs) => {
      if (nowMs < logTime()) {
        throw new DomainError(
          "clock_backwards",
          `now_ms ${nowMs} is before the current time ${logTime()}; the clock only moves forward`,
        );
      }
      setTime = nowMs;
      return nowMs;
    },
    observe: () => {},
    takeSetTime: () => {
      const t = setTime;
      setTime = undefined;
      return t;
    },
  };
}
