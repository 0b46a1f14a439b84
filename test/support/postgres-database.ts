// A fresh database on the run's shared PostgreSQL server (postgres-global.ts) for the running test.
import pg from "pg";
import { inject } from "vitest";
import { uniqueName } from "./postgres-server.js";

/** Create a database of its own for the running test on the shared server; its URL. */
export async function freshDatabase(): Promise<string> {
  const url = new URL(inject("postgresUrl"));
  const name = uniqueName("t");
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    await client.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  url.pathname = `/${name}`;
  return url.href;
}
