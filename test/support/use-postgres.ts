// One throwaway PostgreSQL server per test file (see postgres-server.ts, which benchmarks use outside vitest).
import { afterAll, beforeAll } from "vitest";
import { type PgServer, type PgServerOptions, createDatabase, startPostgres } from "./postgres-server.js";

/**
 * One server for the calling test file: started in beforeAll, stopped in
 * afterAll. Tests share it and take a database each with database().
 */
export function usePostgres(options: PgServerOptions = {}): { readonly server: PgServer; database(): Promise<string> } {
  let server: PgServer | undefined;
  beforeAll(async () => {
    server = await startPostgres(options);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  const started = (): PgServer => {
    if (!server) throw new Error("usePostgres(): the server is started in beforeAll");
    return server;
  };
  return {
    get server(): PgServer {
      return started();
    },
    database: () => createDatabase(started()),
  };
}
