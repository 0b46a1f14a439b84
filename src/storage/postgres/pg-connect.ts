import pg from "pg";
import { isRetryableConnect, scrubbed } from "./pg-errors.js";

const RETRY_PAUSE_MS = 250;

/** Where a client connects, for messages: `host:port` (the socket directory for a Unix socket). */
export function whereOf(client: pg.Client): string {
  return `${client.host}:${client.port}`;
}

/** A client's error as a message: never its password (from the URL, PGPASSWORD or ~/.pgpass). */
export function describeError(client: pg.Client, error: unknown): string {
  const password = client.password;
  return scrubbed(error, password === undefined ? [] : [password, encodeURIComponent(password)]);
}

/**
 * A connected client for `config`, trying again while the server refuses
 * connections or is starting up (when `retry`), until `deadline` (ms since
 * the epoch). Rejects with an Error naming host:port and the cause.
 */
export async function connectClient(config: pg.ClientConfig, deadline: number, retry: boolean): Promise<pg.Client> {
  for (;;) {
    const client = new pg.Client({ ...config, connectionTimeoutMillis: Math.max(1, deadline - Date.now()) });
    try {
      await client.connect();
      // Until its owner listens: a failure of an idle client also fails the next query, which reports it.
      client.on("error", () => {});
      return client;
    } catch (error) {
      client.end().catch(() => {});
      if (!retry || !isRetryableConnect(error) || Date.now() + RETRY_PAUSE_MS >= deadline)
        throw new Error(`cannot connect to PostgreSQL at ${whereOf(client)}: ${describeError(client, error)}`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}
