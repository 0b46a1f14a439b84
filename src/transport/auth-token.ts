import { readFileSync } from "node:fs";

/**
 * A token as the server compares it: without surrounding whitespace (the
 * usual trailing newline of a token file). Server, client and bridge all
 * read and send tokens through here, so a token read from its file by hand
 * authenticates as well as one read by us.
 */
export function normalizeAuthToken(token: string): string {
  return token.trim();
}

/** The token an --auth-token-file holds; throws naming the file when it cannot be read. */
export function readAuthToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(
      `cannot read the auth token file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return normalizeAuthToken(text);
}
