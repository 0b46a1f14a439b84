// Opening PgLogs in tests: each is closed when the test ends; its log lines are kept.
import { onTestFinished } from "vitest";
import { openPgLog, type PgLog, type PgLogOptions } from "../../src/storage/postgres/pg-log.js";

/** A log and the lines it logged. */
export interface TestLog {
  log: PgLog;
  lines: string[];
}

let schemas = 0;

/** A schema name not used before in this process. */
export function freshSchema(prefix = "t"): string {
  return `${prefix}_${process.pid}_${++schemas}`;
}

/** Open a log (system clock, agents crashed on death unless given), closed when the test finishes. */
export async function testLog(url: string, options: Partial<PgLogOptions>): Promise<TestLog> {
  const lines: string[] = [];
  const log = await openPgLog(url, { clock: "system", keepAgents: false, log: (line) => lines.push(line), ...options });
  onTestFinished(() => log.close());
  return { log, lines };
}

/** Resolves once `condition` holds (checked every 20 ms), or rejects after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
