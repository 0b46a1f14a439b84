import { readFileSync } from "node:fs";

/** The token an --auth-token-file holds: its text without surrounding whitespace (the usual trailing newline). */
export function readAuthToken(path: string): string {
  return readFileSync(path, "utf8").trim();
}
