import { crc32 } from "node:zlib";

/**
 * One journal line: a CRC-32 in 8 hex digits, a space, the JSON text of an
 * entry, a newline. The CRCs form a chain: each line's is the CRC-32 of its
 * JSON continued from the previous line's (the first line's from the
 * journal's generation, {@link chainSeed}). So a line that was changed
 * (a write torn by a crash, a flipped bit), and also one that was moved,
 * repeated or dropped before later ones, or copied from another
 * generation's journal, fails its check.
 */
export interface EncodedLine {
  text: string;
  /** The chain value after this line, which the next line continues. */
  crc: number;
}

/** Where the chain of a journal of `generation` starts. */
export function chainSeed(generation: number): number {
  return generation >>> 0;
}

/** Encode `json` as the line that follows a line whose chain value is `previous`. */
export function encodeLine(json: string, previous: number): EncodedLine {
  const crc = crc32(json, previous);
  return { text: `${crc.toString(16).padStart(8, "0")} ${json}\n`, crc };
}

/**
 * The JSON text of a line (without its newline) that follows `previous` in the chain, and its chain value; undefined
 * when it does not check.
 */
export function checkLine(line: string, previous: number): EncodedLine | undefined {
  if (line.length < 10 || line.charCodeAt(8) !== 32 || !/^[0-9a-f]{8}$/.test(line.slice(0, 8))) return undefined;
  const text = line.slice(9);
  const crc = crc32(text, previous);
  return crc === Number.parseInt(line.slice(0, 8), 16) ? { text, crc } : undefined;
}
