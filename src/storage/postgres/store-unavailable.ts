/**
 * A call to the log that failed for want of the database. `outcome`:
 * `not_sent`: nothing of it was written (it was never sent, or the database
 * refused it before writing anything); `unknown`: it was sent and no answer
 * came, so it may have committed (PgLog.batchEntries tells, once connected).
 */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(
    message: string,
    readonly outcome: "not_sent" | "unknown",
  ) {
    super(message);
  }
}
