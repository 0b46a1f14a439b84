import { chainSeed, encodeLine } from "../../src/storage/journal-line.js";

/** The lines of a journal of `generation` holding these entries' JSON texts, chained as the journal writes them. */
export function journalLines(jsons: string[], generation = 0): string[] {
  let chain = chainSeed(generation);
  return jsons.map((json) => {
    const line = encodeLine(json, chain);
    chain = line.crc;
    return line.text;
  });
}

/** One entry's JSON text. */
export const entryJson = (t: number, op: string, a: unknown[]) => JSON.stringify({ t, op, a });
