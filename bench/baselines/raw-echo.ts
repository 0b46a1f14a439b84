// Baseline (b): a raw Node echo that only parses and re-serialises frames:
// each request becomes {jsonrpc, id, result: null} in the same framing, the
// answers to one chunk written together. No JSON-RPC library, no registry,
// and its own few lines of framing rather than src/transport/framing.ts: a
// baseline must not move when our code does (test/transport/one-framing.test.ts
// lets bench/baselines/ keep them).
const framing = process.argv[2] === "content-length" ? "content-length" : "ndjson";
let pending: Buffer = Buffer.alloc(0);

function answer(body: string): string {
  const reply = JSON.stringify({ jsonrpc: "2.0", id: (JSON.parse(body) as { id: unknown }).id, result: null });
  return framing === "ndjson" ? `${reply}\n` : `Content-Length: ${Buffer.byteLength(reply)}\r\n\r\n${reply}`;
}

process.stdin.on("data", (chunk: Buffer) => {
  let data: Buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  const out: string[] = [];
  for (;;) {
    if (framing === "ndjson") {
      const end = data.indexOf(10);
      if (end === -1) break;
      out.push(answer(data.toString("utf8", 0, end)));
      data = data.subarray(end + 1);
      continue;
    }
    const headerEnd = data.indexOf("\r\n\r\n");
    if (headerEnd === -1) break;
    const length = Number(/Content-Length: (\d+)/i.exec(data.toString("latin1", 0, headerEnd))?.[1]);
    if (data.length < headerEnd + 4 + length) break;
    out.push(answer(data.toString("utf8", headerEnd + 4, headerEnd + 4 + length)));
    data = data.subarray(headerEnd + 4 + length);
  }
  pending = data;
  if (out.length > 0) process.stdout.write(out.join(""));
});
process.stdin.on("end", () => process.exit(0));
