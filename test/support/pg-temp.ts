// TEMPORARY: a throwaway PostgreSQL for the log layer's tests, until the
// shared harness (test/support/postgres-server.ts) lands; replace it then.
// Uses the machine's server binaries, run as the `postgres` user (initdb
// refuses root).
import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import pg from "pg";

const BIN = "/usr/lib/postgresql/15/bin";

/** A running server; `url` connects as the superuser `postgres` to the database `postgres`. */
export interface TempPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** Run SQL as the superuser (a connection per call). */
  query(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** `pg_ctl restart -m immediate`: every connection is cut, as by a crash. */
  restart(): void;
  stop(): Promise<void>;
}

/**
 * Start a server on a free port of 127.0.0.1 (trust auth, except the user
 * `harn_secret`, who must give a password). `fsync`: off by default (fast).
 */
export async function startTempPostgres(options: { fsync?: boolean } = {}): Promise<TempPostgres> {
  const dir = mkdtempSync("/tmp/harn-pglog-");
  const dataDir = join(dir, "data");
  const postgres = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
  chownSync(dir, postgres, postgres);
  const asPostgres = (command: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", join(BIN, command), ...args], { stdio: "pipe" });
  asPostgres("initdb", ["-D", dataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const hba = "local all all trust\nhost all harn_secret 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n";
  writeFileSync(join(dataDir, "pg_hba.conf"), hba);
  const port = await freePort();
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${options.fsync ? "on" : "off"}`;
  const log = join(dir, "log");
  asPostgres("pg_ctl", ["start", "-w", "-s", "-D", dataDir, "-l", log, "-o", settings]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    query: async (sql, values) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, values);
      } finally {
        await client.end();
      }
    },
    restart: () =>
      asPostgres("pg_ctl", ["restart", "-w", "-s", "-D", dataDir, "-l", log, "-m", "immediate", "-o", settings]),
    stop: async () => {
      asPostgres("pg_ctl", ["stop", "-s", "-D", dataDir, "-m", "immediate"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
