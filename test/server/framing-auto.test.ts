// Framing on the wire: byte-order marks in every framing, garbage first
// lines under --framing=auto, header variants of Content-Length.
import { describe, expect, it } from "vitest";
import type { Framing } from "../../src/transport/framing.js";
import { frame, request } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

const BOM = "\uFEFF";
const seq = (id: number) => request(id, "current_seq");

describe("a byte-order mark", () => {
  for (const [flag, framing] of [
    ["auto", "ndjson"],
    ["auto", "content-length"],
    ["ndjson", "ndjson"],
    ["content-length", "content-length"],
  ] as [Framing | "auto", Framing][]) {
    it(`is skipped at the start of the stream and of a message (--framing=${flag}, ${framing})`, async () => {
      const wire = await WireSession.start({ framing: flag });
      wire.sendRaw(`${BOM}${frame(framing, seq(1))}`);
      await wire.waitFor(1, framing);
      wire.sendRaw(frame(framing, `${BOM}${seq(2)}`));
      expect(await wire.waitFor(2, framing)).toEqual([
        { jsonrpc: "2.0", id: 1, result: 0 },
        { jsonrpc: "2.0", id: 2, result: 0 },
      ]);
    });
  }

  for (const framing of ["ndjson", "content-length"] as const) {
    it(`is skipped when it arrives split over chunks (--framing=auto, ${framing})`, async () => {
      const wire = await WireSession.start();
      for (const byte of Buffer.from(`${BOM}${frame(framing, seq(1))}`)) wire.sendRaw(Buffer.from([byte]));
      expect(await wire.waitFor(1, framing)).toEqual([{ jsonrpc: "2.0", id: 1, result: 0 }]);
    });
  }
});

describe("--framing=auto with a first line that is not JSON", () => {
  for (const [label, first, code] of [
    ["a word", "hello", -32700],
    ["a header-like line that is no header", "hello: world", -32700],
    ["a misspelt header name", "Content-Lengthy: 5", -32700],
    ["a closing brace", "}", -32700],
    ["binary bytes", "\u0000\u00ff\u0001", -32700],
    ["a broken BOM", "\u00ef\u00bbx", -32700],
    ["a JSON number", "42", -32600],
    ["a JSON string", '"hi"', -32600],
  ] as const) {
    it(`answers ${label} with ${code} and serves the NDJSON after it`, async () => {
      const wire = await WireSession.start();
      wire.sendRaw(
        Buffer.concat([
          Buffer.from(first, first.startsWith("\u00ef") ? "latin1" : "utf8"),
          Buffer.from(`\n${seq(1)}\n`),
        ]),
      );
      const [error, reply] = await wire.waitFor(2, "ndjson");
      expect(error).toMatchObject({ jsonrpc: "2.0", id: null, error: { code } });
      expect(reply).toEqual({ jsonrpc: "2.0", id: 1, result: 0 });
    });
  }
});

describe("Content-Length header variants", () => {
  for (const [label, header] of [
    ["CRLF", (n: number) => `Content-Length: ${n}\r\n\r\n`],
    ["bare LF", (n: number) => `Content-Length: ${n}\n\n`],
    ["CRLF then LF", (n: number) => `Content-Length: ${n}\r\n\n`],
    [
      "lower case, Content-Type first, LF",
      (n: number) => `content-type: application/vscode-jsonrpc; charset=utf-8\ncontent-length:${n}\n\n`,
    ],
  ] as const) {
    for (const flag of ["auto", "content-length"] as const) {
      it(`answers messages with ${label} header ends, blank lines between them (--framing=${flag})`, async () => {
        const wire = await WireSession.start({ framing: flag });
        wire.sendRaw(`${header(seq(1).length)}${seq(1)}\r\n${header(seq(2).length)}${seq(2)}\n\n`);
        expect(await wire.waitFor(2, "content-length")).toEqual([
          { jsonrpc: "2.0", id: 1, result: 0 },
          { jsonrpc: "2.0", id: 2, result: 0 },
        ]);
      });
    }
  }
});
