import { describe, expect, it } from "vitest";
import { detectFraming } from "../../src/transport/detect-framing.js";

const prefixes = ["", "\uFEFF", " \r\n\t", "\uFEFF\r\n", "\n\uFEFF \uFEFF"];
const firstLines: [string, "ndjson" | "content-length"][] = [
  ['{"jsonrpc":"2.0"}\n', "ndjson"],
  ["[1]\n", "ndjson"],
  ["hello\n", "ndjson"],
  ["hello: world\n", "ndjson"],
  ["42\n", "ndjson"],
  ['"text"\n', "ndjson"],
  ["}\n", "ndjson"],
  ["\u0000\u00ff\n", "ndjson"],
  ["Content-Lengthy: 1\n", "ndjson"],
  ["Content-Length 5\n", "ndjson"],
  ["Cont\n", "ndjson"],
  ["Content-Length: 5\r\n\r\n", "content-length"],
  ["content-length:5\n\n", "content-length"],
  ["CONTENT-TYPE: application/vscode-jsonrpc\r\nContent-Length: 5\r\n\r\n", "content-length"],
];

describe("detectFraming", () => {
  for (const prefix of prefixes) {
    for (const [line, framing] of firstLines) {
      it(`${JSON.stringify(prefix + line)} is ${framing}, and no shorter prefix of it says otherwise`, () => {
        const data = Buffer.from(prefix + line);
        const start = Buffer.byteLength(prefix);
        expect(detectFraming(data)).toEqual({ framing, start });
        for (let cut = 0; cut < data.length; cut++) {
          const early = detectFraming(data.subarray(0, cut));
          if (early.framing === undefined) expect(early.start).toBeLessThanOrEqual(start);
          else expect(early).toEqual({ framing, start });
        }
      });
    }
  }

  it("cannot tell from blanks, part of a BOM or part of a header name", () => {
    expect(detectFraming(Buffer.from(" \r\n"))).toEqual({ framing: undefined, start: 3 });
    expect(detectFraming(Buffer.from([0xef, 0xbb]))).toEqual({ framing: undefined, start: 0 });
    expect(detectFraming(Buffer.from("\uFEFFcontent-"))).toEqual({ framing: undefined, start: 3 });
  });

  it("takes a broken BOM as the start of an NDJSON line (answered -32700)", () => {
    expect(detectFraming(Buffer.from([0xef, 0xbb, 0x41]))).toEqual({ framing: "ndjson", start: 0 });
  });
});
