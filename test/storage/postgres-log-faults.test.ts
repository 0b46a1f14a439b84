// The PostgreSQL log layer's faults: lost connections, unknown outcomes, dead sidecars, an unreachable database.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openPgLog, StoreUnavailableError } from "../../src/storage/postgres/pg-log.js";
import { schemaNames } from "../../src/storage/postgres/pg-sql.js";
import { freshSchema, type TestLog, testLog, until } from "../support/pg-logs.js";
import { type PgServer, startPostgres } from "../support/postgres-server.js";
import { tempDir } from "../support/temp-dir.js";

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres({ fsync: false });
});
afterAll(() => server?.stop());

const tick = { op: "tick", a: "[]" };

/** The backend of a sidecar's session connection: the one holding its advisory lock. */
async function sessionPid(schema: string, sidecarId: number): Promise<number> {
  const holders = await server.query(
    "select pid from pg_locks " +
      "where locktype = 'advisory' and classid::bigint = $1 and objid::bigint = $2 and objsubid = 2 and granted",
    [schemaNames(schema).ns >>> 0, sidecarId],
  );
  expect(holders.rows).toHaveLength(1);
  return holders.rows[0].pid;
}

/** End the session connection of a sidecar. */
async function killSession(schema: string, sidecarId: number): Promise<void> {
  await server.query("select pg_terminate_backend($1)", [await sessionPid(schema, sidecarId)]);
}

/** The connection events of a log. */
function connectionEvents({ log }: TestLog): boolean[] {
  const events: boolean[] = [];
  log.onConnection((up) => events.push(up));
  return events;
}

describe("a lost connection", () => {
  test("calls fail at once while down (not sent); the log reconnects and serves again", async () => {
    const schema = freshSchema();
    const sidecar = await testLog(server.url, { schema });
    const { log, lines } = sidecar;
    await log.append(0, 1, [tick]);
    const events = connectionEvents(sidecar);
    let whileDown: Promise<unknown> | undefined;
    log.onConnection((up) => {
      if (!up) whileDown = log.append(1, 2, [tick]).catch((error) => error);
    });
    await killSession(schema, log.sidecarId);
    await until(() => events.length === 2, 3_000, "the log to reconnect");
    expect(events).toEqual([false, true]);
    expect(await whileDown).toMatchObject({ name: "StoreUnavailableError", outcome: "not_sent" });
    expect((await log.append(1, 3, [tick])).entries).toMatchObject([{ seq: 2, batch: 3 }]);
    expect(log.stats()).toMatchObject({ reconnects: 1, unknownOutcomes: 0 });
    expect(lines.join("\n")).toMatch(/lost the connection to 127\.0\.0\.1:\d+ .*\n.*reconnected after \d+ ms/);
    expect(await server.query(`select id from ${schema}.sidecars`)).toMatchObject({ rows: [{ id: "1" }] });
  });

  test("a session that stops answering is given up after 10 beats; its lock keeps it from the reaper", async () => {
    const schema = freshSchema();
    const watcher = await testLog(server.url, { schema });
    const silent = await testLog(server.url, { schema });
    const events = connectionEvents(silent);
    const pid = await sessionPid(schema, silent.log.sidecarId);
    process.kill(pid, "SIGSTOP");
    try {
      await until(() => events.length === 1, 7_000, "the heartbeat to time out");
      expect(silent.lines.join("\n")).toMatch(/no answer to a heartbeat in 10 beats/);
      expect(watcher.log.stats().reaped).toBe(0);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await until(() => events.length === 2, 3_000, "the log to reconnect");
    expect(events).toEqual([false, true]);
    expect(await silent.log.tail(0)).toMatchObject({ entries: [] });
  });

  test("an append lost in flight has an unknown outcome, learnt from batchEntries, which settles it", async () => {
    const schema = freshSchema();
    const sidecar = await testLog(server.url, { schema });
    const { log } = sidecar;
    await log.append(0, 1, [tick]);
    const events = connectionEvents(sidecar);
    const blocker = new pg.Client({ connectionString: server.url });
    await blocker.connect();
    await blocker.query(`begin; select from ${schema}.head for update`);
    const pending = log.append(1, 2, [tick]).catch((error) => error);
    const waiting = "select pid from pg_stat_activity where wait_event_type = 'Lock' and query like '%.append(%'";
    await until(async () => (await server.query(waiting)).rows.length === 1, 3_000, "the append to wait");
    await server.query(`select pg_terminate_backend(pid) from (${waiting}) w`);
    const lost = await pending;
    expect(lost).toBeInstanceOf(StoreUnavailableError);
    expect(lost.outcome).toBe("unknown");
    await blocker.query("rollback");
    await blocker.end();
    await until(() => events.at(-1) === true, 3_000, "the log to reconnect");
    expect(await log.batchEntries(2)).toEqual([]);
    expect(await log.append(1, 2, [tick]).catch((error) => error)).toMatchObject({ outcome: "not_sent" });
    const settling = new pg.Client({ connectionString: server.url });
    await settling.connect();
    await settling.query(`begin; select pg_advisory_xact_lock(${schemaNames(schema).ns}, -${log.sidecarId})`);
    expect(await log.append(1, 3, [tick]).catch((error) => error)).toMatchObject({ outcome: "not_sent" });
    await settling.end();
    const committed = await log.append(1, 4, [tick, tick]);
    expect(await log.batchEntries(4)).toEqual(committed.entries);
    expect(log.stats()).toMatchObject({ unknownOutcomes: 1, reconnects: 1 });
  });
});

describe("a dead sidecar", () => {
  test("killed with its session, it is reaped within 5 s: its agents crashed, unless it keeps them", async () => {
    const child = join(tempDir("harn-pg-child-"), "child.mjs");
    await build({
      entryPoints: [fileURLToPath(new URL("../support/pg-log-child.ts", import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: child,
      banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
      logLevel: "warning",
    });
    const schema = freshSchema();
    const watcher = await testLog(server.url, { schema });
    let changes = 0;
    watcher.log.onChange(() => changes++);
    const start = (keep: string, claims: number[]) => {
      const sidecar = spawn(process.execPath, [child, server.url, schema, keep, JSON.stringify(claims)]);
      const ready = new Promise<number>((resolve, reject) => {
        sidecar.stdout.on("data", (data: Buffer) => resolve(Number(/ready (\d+)/.exec(data.toString())?.[1])));
        sidecar.once("exit", (code) => reject(new Error(`the child exited (${code})`)));
      });
      return { sidecar, ready };
    };
    const crashing = start("crash", [11, 12]);
    const keeping = start("keep", [21]);
    const ids = [await crashing.ready, await keeping.ready];
    crashing.sidecar.kill("SIGKILL");
    keeping.sidecar.kill("SIGKILL");
    const killed = Date.now();
    const sidecars = async () => (await server.query(`select id::int from ${schema}.sidecars order by id`)).rows;
    await until(async () => (await sidecars()).length === 1, 5_000, "both dead sidecars to be reaped");
    expect(Date.now() - killed).toBeLessThan(5_000);
    expect(await sidecars()).toEqual([{ id: watcher.log.sidecarId }]);
    const crashes = (await watcher.log.tail(0)).entries.filter((row) => row.op === "crashAgents");
    expect(crashes).toMatchObject([{ a: "[[11,12]]", sidecar: watcher.log.sidecarId, batch: 0 }]);
    expect((await server.query(`select * from ${schema}.owners`)).rows).toEqual([]);
    expect(ids.every((id) => id !== watcher.log.sidecarId)).toBe(true);
    expect(changes).toBeGreaterThan(0);
    expect(watcher.log.stats().reaped).toBe(2);
  });

  test("a sidecar back within 3 s is not reaped", async () => {
    const schema = freshSchema();
    const watcher = await testLog(server.url, { schema });
    const blip = await testLog(server.url, { schema });
    await blip.log.append(0, 1, [{ op: "register", a: "[]" }], { claims: [31] });
    const events = connectionEvents(blip);
    await killSession(schema, blip.log.sidecarId);
    await until(() => events.length === 2, 3_000, "the log to reconnect");
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect((await watcher.log.tail(0)).entries.map((row) => row.op)).toEqual(["register"]);
    expect((await server.query(`select agent_id::int, sidecar::int from ${schema}.owners`)).rows).toEqual([
      { agent_id: 31, sidecar: blip.log.sidecarId },
    ]);
    expect(blip.lines.join("\n")).not.toMatch(/presumed dead/);
    expect(watcher.log.stats().reaped).toBe(0);
  });

  test("a sidecar away for over 3 s is reaped, and registers again when it is back", async () => {
    await server.query("create role harn_away login superuser password 'away-pw'");
    const schema = freshSchema();
    const watcher = await testLog(server.url, { schema });
    const away = await testLog(`postgres://harn_away:away-pw@127.0.0.1:${server.port}/postgres`, { schema });
    await away.log.append(0, 1, [{ op: "register", a: "[]" }], { claims: [41] });
    const events = connectionEvents(away);
    await server.query("alter role harn_away nologin");
    await killSession(schema, away.log.sidecarId);
    await until(async () => (await watcher.log.tail(1)).entries.length === 1, 6_000, "the reaper");
    expect((await watcher.log.tail(1)).entries).toMatchObject([{ op: "crashAgents", a: "[[41]]" }]);
    await server.query("alter role harn_away login");
    await until(() => events.at(-1) === true, 3_000, "the log to reconnect");
    expect(away.lines.join("\n")).toMatch(/presumed dead/);
    expect((await server.query(`select id::int from ${schema}.sidecars order by id`)).rows).toEqual([
      { id: watcher.log.sidecarId },
      { id: away.log.sidecarId },
    ]);
    expect((await away.log.append(2, 2, [tick])).entries).toMatchObject([{ seq: 3 }]);
  });

  test("close removes the sidecar's row and its claims", async () => {
    const schema = freshSchema();
    const { log } = await testLog(server.url, { schema });
    await log.append(0, 1, [tick], { claims: [1, 2] });
    await log.claim([3]);
    await log.unclaim([2]);
    expect((await server.query(`select agent_id::int from ${schema}.owners order by 1`)).rows).toEqual([
      { agent_id: 1 },
      { agent_id: 3 },
    ]);
    await log.close();
    expect((await server.query(`select count(*)::int as n from ${schema}.owners`)).rows).toEqual([{ n: 0 }]);
    expect((await server.query(`select count(*)::int as n from ${schema}.sidecars`)).rows).toEqual([{ n: 0 }]);
    expect(await log.tail(0).catch((error) => error)).toMatchObject({ outcome: "not_sent" });
  });
});

describe("an unreachable database", () => {
  const options = { clock: "system", keepAgents: false, log: () => {}, connectTimeoutMs: 1_000 } as const;

  test("a refused connection fails in the time given, naming host:port and the cause, not the password", async () => {
    const started = Date.now();
    const error = await openPgLog("postgres://someone:s3cr3t-pw@127.0.0.1:1/db", options).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toMatch(/^cannot connect to PostgreSQL at 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(error.message).not.toContain("s3cr3t");
  });

  test("an unknown host fails at once", async () => {
    const error = await openPgLog("postgresql://u:pw@no-such-host.invalid:5433/db", options).catch((e) => e);
    expect(error.message).toMatch(/^cannot connect to PostgreSQL at no-such-host\.invalid:5433: .*ENOTFOUND/);
  });
});

describe("a database restart", () => {
  test("every sidecar reconnects in time not to be reaped; nothing acknowledged is lost", async () => {
    const schema = freshSchema();
    const logs = [await testLog(server.url, { schema }), await testLog(server.url, { schema })];
    const events = logs.map(connectionEvents);
    await logs[0]?.log.append(0, 1, [{ op: "register", a: "[]" }], { claims: [51] });
    await logs[1]?.log.append(1, 1, [{ op: "register", a: "[]" }], { claims: [52] });
    await server.restartImmediate();
    await until(() => events.every((each) => each.at(-1) === true), 5_000, "both logs to reconnect");
    expect(events).toEqual([
      [false, true],
      [false, true],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const { entries } = await (logs[0] as TestLog).log.tail(0);
    expect(entries.map((row) => row.op)).toEqual(["register", "register"]);
    expect((await server.query(`select count(*)::int as n from ${schema}.sidecars`)).rows).toEqual([{ n: 2 }]);
    expect(logs.map(({ log }) => log.stats().reaped)).toEqual([0, 0]);
  });
});
