import { DatabaseError } from "pg";
import { DomainError } from "../../core/errors.js";
import { CLOCK_BACKWARDS_STATE, REFUSED_STATE } from "./pg-sql.js";
import { StoreUnavailableError } from "./store-unavailable.js";

/** The server's answer to a query that failed: an ERROR (its transaction rolled back; the connection lives on). */
export function isAnswer(error: unknown): error is DatabaseError {
  return error instanceof DatabaseError && error.severity === "ERROR";
}

/**
 * What a failed call throws when the server answered it: `clock_backwards`
 * for a manual `t` below the log's time, StoreUnavailableError (not_sent)
 * for an append the database refused, else the server's error itself.
 */
export function answerError(error: DatabaseError, manualT: number | undefined): Error {
  if (error.code === CLOCK_BACKWARDS_STATE)
    return new DomainError(
      "clock_backwards",
      `now_ms ${manualT} is before the current time ${error.detail}; the clock only moves forward`,
    );
  if (error.code === REFUSED_STATE)
    return new StoreUnavailableError(
      "the database refused the append: this sidecar was presumed dead, or the batch was already settled",
      "not_sent",
    );
  return error;
}

const RETRYABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EAI_AGAIN", "57P03"]);

/** A failure to connect that may pass by itself (refused, reset, the server starting up). */
export function isRetryableConnect(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === "string" && RETRYABLE_CODES.has(code)) ||
    (error instanceof Error && error.message === "Connection terminated unexpectedly")
  );
}

/** An error's message, with every occurrence of a secret replaced by `***`. */
export function scrubbed(error: unknown, secrets: readonly (string | undefined)[]): string {
  let text = error instanceof Error ? error.message : String(error);
  if (text === "" && error instanceof AggregateError) text = error.errors.map((e) => scrubbed(e, [])).join("; ");
  for (const secret of secrets) if (secret !== undefined && secret !== "") text = text.split(secret).join("***");
  return text;
}
