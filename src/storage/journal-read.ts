import { readFileSync } from "node:fs";
import { type Entry, parseEntry } from "./entries.js";
import { chainSeed, checkLine } from "./journal-line.js";
import { StateFileError } from "./state-error.js";

/** One journal as read: its entries, and a last line without its newline if there is one. */
export interface JournalRead {
  generation: number;
  path: string;
  entries: Entry[];
  /** Bytes up to the end of the last complete line. */
  goodBytes: number;
  /** Bytes of a last line (number `entries.length + 1`) without its newline: maybe a write cut by a crash. */
  tornBytes: number;
  /** The chain value after the last complete line, which the next line appended continues. */
  chain: number;
}

/**
 * Read a journal. Every line that ends with its newline must be whole: its
 * checksum matches and it holds an entry; a NUL byte anywhere (a zeroed
 * or damaged file) is corruption too. Either throws a StateFileError naming
 * the file and line. Only a last line without its newline and without NUL
 * bytes is returned as `tornBytes`, for the caller to judge.
 */
export function readJournal(path: string, generation: number): JournalRead {
  const data = readFileSync(path);
  const entries: Entry[] = [];
  const nul = data.indexOf(0);
  let chain = chainSeed(generation);
  let start = 0;
  for (let line = 1; start < data.length; line++) {
    const end = data.indexOf(0x0a, start);
    const lineEnd = end === -1 ? data.length : end;
    if (nul !== -1 && nul < lineEnd) throw corrupt(path, line, "holds NUL bytes (a zeroed or damaged file)");
    if (end === -1) return { generation, path, entries, goodBytes: start, tornBytes: data.length - start, chain };
    const checked = checkLine(data.toString("utf8", start, end), chain);
    if (checked === undefined) {
      throw corrupt(
        path,
        line,
        "fails its checksum (changed, or moved, repeated or dropped lines before it, or from another journal)",
      );
    }
    chain = checked.crc;
    const entry = parseEntry(checked.text);
    if (typeof entry === "string") throw corrupt(path, line, entry);
    entries.push(entry);
    start = end + 1;
  }
  return { generation, path, entries, goodBytes: data.length, tornBytes: 0, chain };
}

/** The error for a line that no crash can leave. */
export function corrupt(path: string, line: number, problem: string): StateFileError {
  return new StateFileError(`${path} line ${line}: ${problem}; the file was left as it is`);
}
