import { InvalidInputError } from "./errors.js";

/** Longest path accepted, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 4096;

const SLASH = 47;
const BACKSLASH = 92;
const DOT = 46;
const COLON = 58;
/**
 * A Windows drive letter at the start (`C:x`, `c:/x`): absolute there, so refused here, before and after normalising.
 */
const DRIVE = /^[A-Za-z]:/;

/**
 * Normalise a workspace-relative path: `\` → `/`, empty and `.` segments
 * dropped, `a/b/../c` → `a/c`. Throws for empty, absolute (`/x`, `C:/x`),
 * escaping (`../x`), NUL-containing or over-long paths.
 * Deliberate change from the seed, which used paths verbatim.
 */
export function normalizePath(path: string, field = "path"): string {
  if (typeof path !== "string") throw new InvalidInputError(field, "must be a string");
  if (path.length === 0) throw new InvalidInputError(field, "must not be empty");
  if (path.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(path, "utf8") > MAX_PATH_BYTES) {
    throw new InvalidInputError(field, `is longer than ${MAX_PATH_BYTES} bytes`);
  }
  if (isCanonical(path)) return path;
  if (path.includes("\0")) throw new InvalidInputError(field, "must not contain NUL bytes");
  const slashed = path.replaceAll("\\", "/");
  if (slashed.startsWith("/") || DRIVE.test(slashed)) {
    throw new InvalidInputError(
      field,
      `must be relative to the workspace root, got absolute path ${JSON.stringify(path)}`,
    );
  }
  const kept: string[] = [];
  for (const segment of slashed.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (kept.length === 0) {
        throw new InvalidInputError(field, `climbs above the workspace root: ${JSON.stringify(path)}`);
      }
      kept.pop();
      continue;
    }
    kept.push(segment);
  }
  if (kept.length === 0)
    throw new InvalidInputError(field, `names the workspace root itself, not a file: ${JSON.stringify(path)}`);
  const normal = kept.join("/");
  if (DRIVE.test(normal)) {
    throw new InvalidInputError(
      field,
      `must be relative to the workspace root, got ${JSON.stringify(path)}, which names a drive ` +
        `(${JSON.stringify(normal)})`,
    );
  }
  return normal;
}

/** True when `path` is already in normal form (the common case), checked in one pass. */
function isCanonical(path: string): boolean {
  let segmentStart = 0;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : SLASH;
    if (c === BACKSLASH || c === 0) return false;
    if (c === COLON && i === 1) return false;
    if (c !== SLASH) continue;
    const length = i - segmentStart;
    if (length === 0) return false;
    if (
      path.charCodeAt(segmentStart) === DOT &&
      (length === 1 || (length === 2 && path.charCodeAt(segmentStart + 1) === DOT))
    ) {
      return false;
    }
    segmentStart = i + 1;
  }
  return true;
}

/** Code-unit order, the same in every locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Call `visit` with each proper ancestor directory of `path`, from the root down: `a`, `a/b` for `a/b/c`. */
export function forEachAncestor(path: string, visit: (dir: string) => void): void {
  for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) visit(path.slice(0, slash));
}

/** True when the two paths are equal or one is an ancestor directory of the other, by whole segments. */
export function pathsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  return a.length < b.length
    ? b.startsWith(a) && b.charCodeAt(a.length) === SLASH
    : a.startsWith(b) && a.charCodeAt(b.length) === SLASH;
}

/** The directory holding `path` (`a/b` for `a/b/c`), or undefined for a path at the top. */
export function parentOf(path: string): string | undefined {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? undefined : path.slice(0, slash);
}

/** True when `path` lies directly in `dir`: one segment below it. */
export function isChild(path: string, dir: string): boolean {
  const length = dir.length;
  return (
    path.length > length + 1 &&
    path.charCodeAt(length) === SLASH &&
    path.indexOf("/", length + 1) === -1 &&
    path.startsWith(dir)
  );
}

/** True when `path` is `dir` or lies below it, by whole segments. */
export function isWithin(path: string, dir: string): boolean {
  return path.length >= dir.length && pathsOverlap(path, dir);
}
