import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { StateFileError } from "./state-files.js";

const LOCK_DIR = "writer.lock";
const PID_FILE = "writer.pid";

/**
 * Make this process the one writer of a state directory, with
 * proper-lockfile (an atomic mkdir of `writer.lock`, kept fresh while we
 * run and judged stale after 10 s without updates). Our pid goes into
 * `writer.pid`, so a refusal names the holder, and a lock whose holder's
 * pid is dead (a kill -9) is taken over at once instead of after 10 s.
 */
export function lockStateDir(dir: string, onCompromised: (error: Error) => void): () => void {
  const options = { lockfilePath: join(dir, LOCK_DIR), realpath: false, stale: 10_000, update: 2_000, onCompromised };
  let release: () => void;
  try {
    release = lockfile.lockSync(dir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    const holder = readHolder(dir);
    if (holder !== undefined && isAlive(holder)) {
      throw new StateFileError(`${dir} is in use by process ${holder} (lock ${join(dir, LOCK_DIR)}); stop that process or use another --state`);
    }
    if (holder === undefined) {
      throw new StateFileError(`${dir} is locked by a process whose pid is unknown (lock ${join(dir, LOCK_DIR)}); it is taken over 10 s after that process stops`);
    }
    rmSync(join(dir, LOCK_DIR), { recursive: true, force: true });
    release = lockfile.lockSync(dir, options);
  }
  writeFileSync(join(dir, PID_FILE), `${process.pid}\n`);
  return () => {
    rmSync(join(dir, PID_FILE), { force: true });
    release();
  };
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
