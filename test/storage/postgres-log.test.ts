// The PostgreSQL log layer against a real server: schema, ordering, time, notifications, credentials.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { type LogEntry, openPgLog } from "../../src/storage/postgres/pg-log.js";
import { clientConfig } from "../../src/storage/postgres/pg-url.js";
import { freshSchema, type TestLog, testLog, until } from "../support/pg-logs.js";
import { type PgServer, startPostgres } from "../support/postgres-server.js";
import { tempDir } from "../support/temp-dir.js";

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres({ fsync: false });
});
afterAll(() => server?.stop());

const entry = (op: string, ...args: unknown[]) => ({ op, a: JSON.stringify(args) });

describe("schema", () => {
  test("is created on first start with its version and clock; refused when newer or for the other clock", async () => {
    const schema = freshSchema();
    await testLog(server.url, { schema });
    const meta = await server.query(`select key, value from ${schema}.meta order by key`);
    expect(meta.rows).toEqual([
      { key: "clock", value: "system" },
      { key: "version", value: "1" },
    ]);
    await expect(testLog(server.url, { schema, clock: "manual" })).rejects.toThrow(
      /runs on the system clock; this sidecar was started with --clock=manual/,
    );
    await server.query(`update ${schema}.meta set value = '2' where key = 'version'`);
    await expect(testLog(server.url, { schema })).rejects.toThrow(/at version 2, newer than .* version 1/);
  });

  test("8 sidecars starting at once on a fresh database create the schema once and get distinct ids", async () => {
    await server.query("create database fresh");
    const url = server.url.replace(/\/postgres$/, "/fresh");
    const logs = await Promise.all(Array.from({ length: 8 }, () => testLog(url, {})));
    expect(new Set(logs.map(({ log }) => log.sidecarId)).size).toBe(8);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client.query("select count(*)::int as n from harn_registry.sidecars");
    await client.end();
    expect(rows.rows).toEqual([{ n: 8 }]);
  });

  test("a schema name is quoted: capitals, spaces and quotes work, notifications included", async () => {
    const schema = `Harn "q" ${freshSchema()}`;
    const a = await testLog(server.url, { schema });
    const b = await testLog(server.url, { schema });
    let changes = 0;
    a.log.onChange(() => changes++);
    await b.log.append(0, 1, [entry("tick")]);
    await until(() => changes === 1, 2_000, "a notification");
    expect((await a.log.tail(0)).entries.map((row) => row.op)).toEqual(["tick"]);
  });
});

describe("append and tail", () => {
  test("4 sidecars × 200 appends at once: a gapless log in commit order, each append answered exactly", async () => {
    const schema = freshSchema();
    const logs = await Promise.all(Array.from({ length: 4 }, () => testLog(server.url, { schema })));
    let interleaved = 0;
    const appended: LogEntry[] = [];
    const appendAll = async ({ log }: TestLog) => {
      let position = 0;
      for (let batch = 1; batch <= 200; batch++) {
        const { entries, now } = await log.append(position, batch, [entry("tick"), entry("heartbeat", batch)]);
        expect(entries.map((row) => row.seq)).toEqual(entries.map((_, i) => position + 1 + i));
        const own = entries.slice(-2);
        expect(own.map((row) => [row.sidecar, row.batch, row.t])).toEqual([
          [log.sidecarId, batch, now],
          [log.sidecarId, batch, now],
        ]);
        expect(entries.slice(0, -2).every((row) => row.sidecar !== log.sidecarId)).toBe(true);
        if (entries.length > 2) interleaved++;
        appended.push(...own);
        position = own[1]?.seq ?? 0;
      }
    };
    await Promise.all(logs.map(appendAll));
    expect(interleaved).toBeGreaterThan(100);
    const [first] = logs;
    const { entries, now } = await (first as TestLog).log.tail(0);
    expect(entries.map((row) => row.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries).toEqual(appended.sort((a, b) => a.seq - b.seq));
    expect(entries.every((row, i) => i === 0 || row.t >= (entries[i - 1] as LogEntry).t)).toBe(true);
    expect(now).toBeGreaterThanOrEqual((entries.at(-1) as LogEntry).t);
    expect(logs.map(({ log }) => log.stats().appends)).toEqual([200, 200, 200, 200]);
  });

  test("tail gives the entries after a position and the time; load the snapshot and the entries after", async () => {
    const { log } = await testLog(server.url, { schema: freshSchema() });
    const before = Date.now();
    const empty = await log.tail(0);
    expect(empty.entries).toEqual([]);
    expect(empty.now).toBeGreaterThanOrEqual(before - 1_000);
    await log.append(0, 1, [entry("tick"), entry("register", { name: "x" })]);
    await log.append(2, 2, [entry("tick")]);
    const tail = await log.tail(1);
    expect(tail.entries.map((row: LogEntry) => [row.seq, row.op, row.a])).toEqual([
      [2, "register", '[{"name":"x"}]'],
      [3, "tick", "[]"],
    ]);
    expect(tail.now).toBeGreaterThanOrEqual((tail.entries[1] as LogEntry).t);
    expect(await log.tail(3)).toMatchObject({ entries: [] });

    await log.saveSnapshot({ seq: 2, t: 5, state: '{"s":1}' });
    expect(await log.load()).toMatchObject({ saved: { seq: 2, t: 5, state: '{"s":1}' }, entries: [{ seq: 3 }] });
    await log.append(3, 3, [entry("tick")]);
    await log.saveSnapshot({ seq: 4, t: 6, state: '{"s":2}' });
    expect(await log.load()).toMatchObject({ saved: { seq: 4 }, entries: [] });
    expect((await log.tail(0)).entries.map((row) => row.seq)).toEqual([3, 4]);
  });

  test("manual clock: t is the log's, moved only by an explicit t, never backwards", async () => {
    const schema = freshSchema();
    const { log } = await testLog(server.url, { schema, clock: "manual" });
    expect((await log.append(0, 1, [entry("tick")])).now).toBe(0);
    expect((await log.append(1, 2, [entry("tick")], { manualT: 1_000 })).now).toBe(1_000);
    expect((await log.append(2, 3, [entry("tick")])).now).toBe(1_000);
    const refused = await log.append(3, 4, [entry("tick")], { manualT: 999 }).catch((error) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ kind: "clock_backwards", message: expect.stringMatching(/999 .* 1000/) });
    expect(await log.tail(0)).toMatchObject({ now: 1_000, entries: [{ t: 0 }, { t: 1_000 }, { t: 1_000 }] });
    await expect(testLog(server.url, { schema })).rejects.toThrow(/runs on the manual clock/);
  });

  test("NOTIFY reaches the other sidecars, not the one that appended", async () => {
    const schema = freshSchema();
    const [a, b] = [await testLog(server.url, { schema }), await testLog(server.url, { schema })];
    const heard = { a: 0, b: 0 };
    a.log.onChange(() => heard.a++);
    b.log.onChange(() => heard.b++);
    await a.log.append(0, 1, [entry("tick")]);
    await until(() => heard.b === 1, 2_000, "b to hear a");
    await b.log.append(1, 1, [entry("tick")]);
    await until(() => heard.a === 1, 2_000, "a to hear b");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual({ a: 1, b: 1 });
  });
});

describe("credentials and the URL", () => {
  test("the password comes from PGPASSFILE (like ~/.pgpass) or PGPASSWORD; a wrong one is not shown", async () => {
    await server.query("create role harn_secret login superuser password 'right-pw'");
    const url = `postgres://harn_secret@127.0.0.1:${server.port}/postgres`;
    const passFile = join(tempDir("harn-pgpass-"), "pgpass");
    writeFileSync(passFile, `127.0.0.1:${server.port}:*:harn_secret:right-pw\n`);
    chmodSync(passFile, 0o600);
    const saved = { PGPASSFILE: process.env.PGPASSFILE, PGPASSWORD: process.env.PGPASSWORD };
    try {
      process.env.PGPASSFILE = passFile;
      await testLog(url, { schema: freshSchema() });
      process.env.PGPASSFILE = "/nonexistent";
      process.env.PGPASSWORD = "right-pw";
      await testLog(url, { schema: freshSchema() });
    } finally {
      process.env.PGPASSFILE = saved.PGPASSFILE ?? "";
      process.env.PGPASSWORD = saved.PGPASSWORD ?? "";
      if (saved.PGPASSFILE === undefined) delete process.env.PGPASSFILE;
      if (saved.PGPASSWORD === undefined) delete process.env.PGPASSWORD;
    }
    const wrong = `postgres://harn_secret:wrong-pw@127.0.0.1:${server.port}/postgres`;
    const error = await openPgLog(wrong, { clock: "system", keepAgents: false, log: () => {} }).catch((e) => e);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(error.message).toContain("password authentication failed");
    expect(error.message).not.toContain("wrong-pw");
  });

  test("SSL variables join the URL with libpq's meaning; the URL's own parameters win", () => {
    const config = (url: string, env: NodeJS.ProcessEnv = {}) => clientConfig(url, env).connectionString;
    expect(config("postgres://u@h/db")).toBe("postgres://u@h/db?uselibpqcompat=true");
    expect(config("postgresql://u@h/db?sslmode=verify-full", { PGSSLMODE: "require" })).toBe(
      "postgresql://u@h/db?sslmode=verify-full&uselibpqcompat=true",
    );
    expect(config("postgres://u@h/db", { PGSSLMODE: "require", PGSSLROOTCERT: "/ca" })).toBe(
      "postgres://u@h/db?sslmode=require&sslrootcert=%2Fca&uselibpqcompat=true",
    );
    expect(config("postgres://u@h/db?sslmode=allow")).toBe(
      "postgres://u@h/db?sslmode=allow&sslmode=disable&uselibpqcompat=true",
    );
    expect(() => clientConfig("mysql://u@h/db")).toThrow(/postgres:\/\//);
  });
});
