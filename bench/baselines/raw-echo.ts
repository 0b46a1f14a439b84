// Baseline (b), the floor: a raw Node echo that only parses and re-serialises
// frames: each request is JSON.parse'd and answered with a JSON.stringify'd
// {jsonrpc, id, result: null} in the same framing (argv[2]: "ndjson", the
// default, or "content-length"), the answers to one chunk written together.
// No JSON-RPC library, no registry, and its own few lines of framing rather
// than src/transport/framing.ts: a baseline must not move when our code does
// (test/transport/one-framing.test.ts lets bench/baselines/ keep them). It is
// written as lean as a careful hand would for each framing: NDJSON decodes a
// chunk's complete lines at once and splits the string; Content-Length reads
// the header bytes in place (the header as the base protocol spells it).
const contentLength = process.argv[2] === "content-length";
const HEADER = Buffer.from("Content-Length:");
const HEADER_END = Buffer.from("\r\n\r\n");
let pending: Buffer | undefined;

const reply = (body: string): string =>
  JSON.stringify({ jsonrpc: "2.0", id: (JSON.parse(body) as { id: unknown }).id, result: null });

/** The answers to the complete lines in `data`; the unfinished last line waits for the next chunk. */
function ndjson(data: Buffer): string {
  const last = data.lastIndexOf(10);
  pending = last + 1 < data.length ? data.subarray(last + 1) : undefined;
  if (last === -1) return "";
  const text = data.toString("utf8", 0, last);
  let out = "";
  for (let at = 0; at <= text.length; ) {
    const newline = text.indexOf("\n", at);
    const end = newline === -1 ? text.length : newline;
    if (end > at) out += `${reply(text.slice(at, end))}\n`;
    at = end + 1;
  }
  return out;
}

/** The body length named by the header block `[from, to)` of `data`. */
function bodyLength(data: Buffer, from: number, to: number): number {
  let at = data.indexOf(HEADER, from);
  if (at === -1 || at >= to) throw new Error("a header block without Content-Length");
  for (at += HEADER.length; data[at] === 32; ) at++;
  let length = 0;
  for (let digit = (data[at] as number) - 48; digit >= 0 && digit <= 9; digit = (data[++at] as number) - 48)
    length = length * 10 + digit;
  return length;
}

/** The answers to the complete frames in `data`; an unfinished frame waits for the next chunk. */
function framed(data: Buffer): string {
  let out = "";
  let at = 0;
  for (let headerEnd = data.indexOf(HEADER_END); headerEnd !== -1; headerEnd = data.indexOf(HEADER_END, at)) {
    const start = headerEnd + HEADER_END.length;
    const end = start + bodyLength(data, at, headerEnd);
    if (end > data.length) break;
    const answer = reply(data.toString("utf8", start, end));
    out += `Content-Length: ${Buffer.byteLength(answer)}\r\n\r\n${answer}`;
    at = end;
  }
  pending = at < data.length ? data.subarray(at) : undefined;
  return out;
}

process.stdin.on("data", (chunk: Buffer) => {
  const data = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
  const out = contentLength ? framed(data) : ndjson(data);
  if (out !== "") process.stdout.write(out);
});
process.stdin.on("end", () => process.exit(0));
