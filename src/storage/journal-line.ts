import { crc32 } from "node:zlib";

/**
 * One journal line: the CRC-32 of the JSON text in 8 hex digits, a space,
 * the JSON text, a newline. A line whose checksum does not match (a write
 * torn by a crash, a flipped bit) is told apart from a good one.
 */
export function encodeLine(json: string): string {
  return `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
}

/** The JSON text of a line (without its newline), or undefined when the checksum does not match. */
export function checkLine(line: string): string | undefined {
  if (line.length < 10 || line.charCodeAt(8) !== 32) return undefined;
  const json = line.slice(9);
  const sum = Number.parseInt(line.slice(0, 8), 16);
  return /^[0-9a-f]{8}$/.test(line.slice(0, 8)) && crc32(json) === sum ? json : undefined;
}
