import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";

/** fsync a directory, so that a file created, renamed or removed in it stays so after a crash. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replace `path` with `text` atomically and durably: written to `path.tmp`, fsynced, renamed over it, dir fsynced. */
export function replaceFileSync(path: string, text: string): void {
  const fd = openSync(`${path}.tmp`, "w");
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
  syncDirectory(dirname(path));
}

/** {@link replaceFileSync} without blocking the event loop while the text is written. */
export async function replaceFile(path: string, text: string): Promise<void> {
  const handle = await open(`${path}.tmp`, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  renameSync(`${path}.tmp`, path);
  syncDirectory(dirname(path));
}
