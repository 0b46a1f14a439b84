// Baseline (b): a raw Node echo that only parses and re-serialises frames:
// each request becomes {jsonrpc, id, result: null} in the same framing, the
// answers to one chunk written together. No JSON-RPC library, no registry:
// frames are split and written with src/transport/framing.ts's frameAt and
// encodeFrame, which do no more than that.
import { encodeFrame, frameAt } from "../../src/transport/framing.js";

const framing = process.argv[2] === "content-length" ? "content-length" : "ndjson";
let pending: Buffer = Buffer.alloc(0);

function answer(body: string): string {
  return encodeFrame(framing, JSON.stringify({ jsonrpc: "2.0", id: (JSON.parse(body) as { id: unknown }).id, result: null }));
}

process.stdin.on("data", (chunk: Buffer) => {
  const data: Buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  const out: string[] = [];
  let at = 0;
  for (let frame = frameAt(data, framing); frame !== undefined; frame = frameAt(data, framing, at)) {
    out.push(answer(data.toString("utf8", frame.start, frame.end)));
    at = frame.next;
  }
  pending = data.subarray(at);
  if (out.length > 0) process.stdout.write(out.join(""));
});
process.stdin.on("end", () => process.exit(0));
