import { createHash } from "node:crypto";
import { readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { bindAbstractName } from "./abstract-name.js";
import { StateFileError } from "./state-error.js";

const PID_FILE = "writer.pid";
const LOCK_DIR = "writer.lock";
/** How long a refused starter waits for the new holder to write its pid (it binds first, then writes). */
const PID_WAIT_MS = 2_000;

/**
 * Make this process the one writer of a state directory; resolves with the
 * function that gives it up. Throws a StateFileError naming the holder when
 * another process has it.
 *
 * On Linux the directory is taken by binding the abstract socket name
 * `harn-registry-<sha256 of its real path>`: the kernel lets one process
 * hold a name and frees it when that process dies, so taking the directory
 * is one atomic step and a kill -9 frees it at once, with nothing to judge
 * stale. Elsewhere (no abstract namespace) proper-lockfile's `writer.lock`
 * is used: a lock whose holder died is taken over once it is 10 s old, and
 * a holder that finds its lock taken stops (`onCompromised`).
 *
 * Either way our pid goes to `writer.pid`, so that a refusal names the holder.
 */
export async function lockStateDir(
  dir: string,
  onCompromised: (error: Error) => void,
  platform = process.platform,
): Promise<() => void> {
  const release = platform === "linux" ? await bindAbstractName(abstractName(dir)) : takeLockfile(dir, onCompromised);
  if (release === undefined) throw new StateFileError(inUse(dir, await waitForHolder(dir)));
  const pidFile = join(dir, PID_FILE);
  writeFileSync(`${pidFile}.tmp`, `${process.pid}\n`);
  renameSync(`${pidFile}.tmp`, pidFile);
  return () => {
    rmSync(pidFile, { force: true });
    release();
  };
}

/** The abstract socket name of a directory: the same for every path that leads to it. */
function abstractName(dir: string): string {
  return `harn-registry-${createHash("sha256").update(realpathSync(dir)).digest("hex")}`;
}

function takeLockfile(dir: string, onCompromised: (error: Error) => void): (() => void) | undefined {
  try {
    const lockfilePath = join(dir, LOCK_DIR);
    return lockfile.lockSync(dir, { lockfilePath, realpath: false, stale: 10_000, update: 2_000, onCompromised });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    return undefined;
  }
}

function inUse(dir: string, holder: number | undefined): string {
  if (holder !== undefined) return `${dir} is in use by process ${holder}; stop that process or use another --state`;
  const pidFile = join(dir, PID_FILE);
  const offLinux = "off Linux, the lock of a writer that died is taken over 10 s after it stopped";
  return `${dir} is in use by a process that ${pidFile} does not name (${offLinux})`;
}

/**
 * The running process named in `writer.pid`. A holder that has just taken
 * the directory may not have written it yet (it may still name the previous,
 * dead holder), so wait a little for a running one.
 */
async function waitForHolder(dir: string): Promise<number | undefined> {
  const deadline = Date.now() + PID_WAIT_MS;
  for (;;) {
    const pid = readHolder(dir);
    if (pid !== undefined && (pid === process.pid || isAlive(pid))) return pid;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function readHolder(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, PID_FILE), "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
