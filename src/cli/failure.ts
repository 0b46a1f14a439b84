/**
 * A failure as one line: the error's message with its whitespace folded
 * (a JSON parser's message can quote a line break), without a leading
 * `harn-registry: ` (the client's RegistryClosedError has one), and a Node
 * file error (`ENOENT: no such file or directory, open '/x'`) as
 * `/x: no such file or directory (ENOENT)`.
 */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const system = error as { code?: unknown; path?: unknown };
  const parts = /^(E[A-Z]+): (.*), \w+ '.*'$/s.exec(message);
  const text =
    parts !== null && typeof system.path === "string" ? `${system.path}: ${parts[2]} (${parts[1]})` : message;
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^harn-registry: /, "");
}

/**
 * The failure naming `subject` (a file, a directory, a server's address): prefixed with it unless the message already
 * names it.
 */
export function naming(subject: string, error: unknown): Error {
  const text = oneLine(error);
  return new Error(text.includes(subject) ? text : `${subject}: ${text}`);
}
