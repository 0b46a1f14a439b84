// vitest globalSetup: one throwaway PostgreSQL server for the whole run,
// started on the first file that asks for it is not possible across
// workers, so it starts here, once, and its URL is provided to every file
// (inject("postgresUrl")); each test takes a database of its own
// (test/support/postgres-database.ts). Files that restart or kill their
// server start their own (use-postgres.ts).
import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres({ fsync: false, settings: { max_connections: 300 } });
  project.provide("postgresUrl", server.url);
  return () => server.stop();
}
