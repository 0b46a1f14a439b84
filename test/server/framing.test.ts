import { describe, expect, it } from "vitest";
import { ContentLengthDecoder, type FrameSink, NdjsonDecoder, encodeFrame } from "../../src/server/framing.js";

function collect(make: (sink: FrameSink) => { push(chunk: Buffer): void }) {
  const messages: string[] = [];
  const errors: { problem: string; oversized: boolean }[] = [];
  const decoder = make({ message: (text) => messages.push(text), malformed: (problem, oversized) => errors.push({ problem, oversized }) });
  return { decoder, messages, errors };
}

/** Feed `data` split at every possible pair of cut points; every split must decode the same. */
function everySplit(data: Buffer, run: (chunks: Buffer[]) => void): void {
  for (let a = 0; a <= data.length; a++) {
    for (let b = a; b <= data.length; b += Math.max(1, Math.floor(data.length / 7))) {
      run([data.subarray(0, a), data.subarray(a, b), data.subarray(b)]);
    }
  }
}

describe("NdjsonDecoder", () => {
  const input = Buffer.from('{"a":1}\n\r\n  \n{"b":"é"}\r\n{"c":3}');

  it("yields each non-blank line, whatever the chunking, and keeps a partial last line", () => {
    everySplit(input, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new NdjsonDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual(['{"a":1}', '{"b":"é"}']);
      expect(errors).toEqual([]);
      decoder.push(Buffer.from("\n"));
      expect(messages).toEqual(['{"a":1}', '{"b":"é"}', '{"c":3}']);
    });
  });

  it("drops an oversized line, once, whether it arrives whole or in pieces, and carries on", () => {
    const data = Buffer.from(`{"x":"${"y".repeat(50)}"}\n{"ok":1}\n`);
    everySplit(data, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new NdjsonDecoder(20, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual(['{"ok":1}']);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.oversized).toBe(true);
    });
  });
});

describe("ContentLengthDecoder", () => {
  const body1 = '{"id":1,"s":"é"}';
  const body2 = '{"id":2}';
  const input = Buffer.from(`${encodeFrame("content-length", body1)}Content-Type: x\r\nContent-Length: ${body2.length}\r\n\r\n${body2}`);

  it("yields each body by byte length (UTF-8), whatever the chunking", () => {
    everySplit(input, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual([body1, body2]);
      expect(errors).toEqual([]);
    });
  });

  it("reports a header without Content-Length or with a bad value, and resynchronises", () => {
    const data = Buffer.from(`Foo: 1\r\n\r\nContent-Length: x\r\n\r\njunk Content-Length: ${body2.length}\r\n\r\n${body2}`);
    everySplit(data, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual([body2]);
      expect(errors.map((e) => e.oversized)).toEqual([false, false]);
    });
  });

  it("skips an oversized body without buffering it and decodes the next message", () => {
    const big = "z".repeat(300);
    const data = Buffer.from(`${encodeFrame("content-length", big)}${encodeFrame("content-length", body2)}`);
    everySplit(data, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(100, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual([body2]);
      expect(errors).toEqual([{ problem: "a body of 300 bytes exceeds --max-message-bytes=100; it was discarded", oversized: true }]);
    });
  });

  it("gives up on a header that never ends, keeping only a possible terminator prefix", () => {
    const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(100, sink));
    decoder.push(Buffer.from("x".repeat(9000)));
    expect(errors).toHaveLength(1);
    decoder.push(Buffer.from(`\r\n\r\n${encodeFrame("content-length", body2)}`));
    expect(messages).toEqual([body2]);
  });
});
