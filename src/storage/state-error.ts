import { readFileSync } from "node:fs";

/** A state directory that cannot be loaded or is held by another writer; the message names the file (and line). */
export class StateFileError extends Error {
  override name = "StateFileError";
}

/** The text of a state directory's file, or undefined when it does not exist; any other failure names the file. */
export function readStateText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateFileError(`${path}: cannot be read: ${(error as Error).message}`);
  }
}
