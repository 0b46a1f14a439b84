// The project's own source files, read for tests that check a fact is
// written in one place only (grep-style, on code lines: comments are left out).
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A source file: its path from the repository root and its code lines (line comments and block-comment lines blanked).
 */
export interface SourceFile {
  path: string;
  lines: string[];
}

/** Every .ts, .mjs and .cjs file under the given folders (paths from the repository root). */
export function sourceFiles(...folders: string[]): SourceFile[] {
  return folders
    .flatMap((folder) => walk(join(ROOT, folder)))
    .map((file) => ({ path: relative(ROOT, file), lines: codeLines(readFileSync(file, "utf8")) }));
}

/** The lines of `text` with comment-only lines blanked, so that prose about a fact is not taken for a copy of it. */
export function codeLines(text: string): string[] {
  return text.split("\n").map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? "" : line));
}

/** `path:line: text` of every code line matching `pattern`. */
export function matches(files: SourceFile[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    file.lines.flatMap((line, index) => (pattern.test(line) ? [`${file.path}:${index + 1}: ${line.trim()}`] : [])),
  );
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "fixtures" ? [] : walk(path);
    return /\.(ts|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}
