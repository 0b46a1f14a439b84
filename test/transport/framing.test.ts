import { describe, expect, it } from "vitest";
import {
  ContentLengthDecoder,
  type FrameDecoder,
  type FrameSink,
  NdjsonDecoder,
  encodeFrame,
  frameAt,
} from "../../src/transport/framing.js";

function collect(make: (sink: FrameSink) => FrameDecoder) {
  const messages: string[] = [];
  const errors: { problem: string; oversized: boolean }[] = [];
  const decoder = make({
    message: (text) => messages.push(text),
    malformed: (problem, oversized) => errors.push({ problem, oversized }),
  });
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

  it("counts the limit in bytes, whatever the chunking: a line of the limit passes, one byte more is dropped", () => {
    const data = Buffer.from('{"b":"é"}\n{"b":"éé"}\n{"c":3}\n');
    everySplit(data, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new NdjsonDecoder(Buffer.byteLength('{"b":"é"}'), sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual(['{"b":"é"}', '{"c":3}']);
      expect(errors.map((error) => error.oversized)).toEqual([true]);
    });
  });
});

describe("ContentLengthDecoder", () => {
  const body1 = '{"id":1,"s":"é"}';
  const body2 = '{"id":2}';
  const input = Buffer.from(
    `${encodeFrame("content-length", body1)}Content-Type: x\r\nContent-Length: ${body2.length}\r\n\r\n${body2}`,
  );

  it("yields each body by byte length (UTF-8), whatever the chunking", () => {
    everySplit(input, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual([body1, body2]);
      expect(errors).toEqual([]);
    });
  });

  it("reads the usual header and other spellings of it alike, whatever the chunking", () => {
    const n = body2.length;
    const headers = [
      `Content-Length: ${n}\r\n\r\n`,
      `Content-Length: 000${n}\r\n\r\n`,
      `Content-Length: ${n} \r\n\r\n`,
      `Content-Length:${n}\r\n\r\n`,
      `content-length: ${n}\r\n\r\n`,
      `Content-Length: ${n}\n\n`,
      `\r\nContent-Length: ${n}\r\n\r\n`,
    ];
    everySplit(Buffer.from(headers.map((header) => header + body2).join("")), (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual(headers.map(() => body2));
      expect(errors).toEqual([]);
    });
  });

  it("reports a header without Content-Length or with a bad value, and resynchronises", () => {
    const data = Buffer.from(
      `Foo: 1\r\n\r\nContent-Length: x\r\n\r\njunk Content-Length: ${body2.length}\r\n\r\n${body2}`,
    );
    everySplit(data, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual([body2]);
      expect(errors.map((e) => e.oversized)).toEqual([false, false, false]);
    });
  });

  it("skips an oversized body without buffering it and decodes the next message", () => {
    const big = "z".repeat(300);
    const data = Buffer.from(`${encodeFrame("content-length", big)}${encodeFrame("content-length", body2)}`);
    everySplit(data, (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(100, sink));
      for (const chunk of chunks) decoder.push(chunk);
      expect(messages).toEqual([body2]);
      expect(errors).toEqual([
        { problem: "a body of 300 bytes exceeds --max-message-bytes=100; it was discarded", oversized: true },
      ]);
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

describe("ContentLengthDecoder header ends and blank lines", () => {
  const body = '{"id":1}';
  for (const [label, end] of [
    ["\\r\\n\\r\\n", "\r\n\r\n"],
    ["\\n\\n", "\n\n"],
    ["\\r\\n\\n", "\r\n\n"],
    ["\\n\\r\\n", "\n\r\n"],
  ] as const) {
    it(
      `takes a header block ended by ${label}, ` +
        `other headers and blank lines between messages included, whatever the chunking`,
      () => {
        const newline = end.startsWith("\r") ? "\r\n" : "\n";
        const headers = `Content-Type: application/json${newline}Content-Length: ${body.length}`;
        const data = Buffer.from(`${headers}${end}${body}\r\n\n${headers}${end}${body}`);
        everySplit(data, (chunks) => {
          const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
          for (const chunk of chunks) decoder.push(chunk);
          decoder.end();
          expect(messages).toEqual([body, body]);
          expect(errors).toEqual([]);
        });
      },
    );
  }
});

describe("decoders at the end of the input", () => {
  it("NDJSON: a last line without its newline is a message; blanks are nothing", () => {
    everySplit(Buffer.from('{"a":1}\n{"b":2}  \r'), (chunks) => {
      const { decoder, messages, errors } = collect((sink) => new NdjsonDecoder(1000, sink));
      for (const chunk of chunks) decoder.push(chunk);
      decoder.end();
      expect(messages).toEqual(['{"a":1}', '{"b":2}']);
      expect(errors).toEqual([]);
    });
    const { decoder, messages } = collect((sink) => new NdjsonDecoder(1000, sink));
    decoder.push(Buffer.from('{"a":1}\n \r\n  '));
    decoder.end();
    expect(messages).toEqual(['{"a":1}']);
  });

  it("NDJSON: a last line already reported as oversized is not reported again", () => {
    const { decoder, messages, errors } = collect((sink) => new NdjsonDecoder(10, sink));
    decoder.push(Buffer.from(`{"x":"${"y".repeat(50)}`));
    decoder.end();
    expect(messages).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it(
    "Content-Length: a body or header block cut short is malformed; " +
      "trailing blanks and a skipped oversized body are not",
    () => {
      const frame = encodeFrame("content-length", '{"id":1}');
      for (const [cut, problem] of [
        [frame.slice(0, -3), "the input ended after 5 of the 8 body bytes"],
        [frame.slice(0, 10), 'the input ended inside a header block: "Content-Le"'],
        [frame.slice(0, frame.indexOf("\r\n\r\n") + 2), "the input ended inside a header block"],
      ] as const) {
        const { decoder, messages, errors } = collect((sink) => new ContentLengthDecoder(1000, sink));
        decoder.push(Buffer.from(`${frame}${cut}`));
        decoder.end();
        expect(messages).toEqual(['{"id":1}']);
        expect(errors).toHaveLength(1);
        expect(errors[0]?.problem).toContain(problem);
        expect(errors[0]?.oversized).toBe(false);
      }
      const { decoder, errors } = collect((sink) => new ContentLengthDecoder(5, sink));
      decoder.push(Buffer.from(`${frame}\r\n \n${frame.slice(0, -3)}`));
      decoder.end();
      expect(errors.map((e) => e.oversized)).toEqual([true, true]);
    },
  );
});

describe("frameAt (for clients reading replies)", () => {
  const bodies = ['{"id":1,"s":"é"}', '{"id":2}'];

  for (const framing of ["ndjson", "content-length"] as const) {
    it(`finds each complete ${framing} frame in turn, and nothing in an incomplete one`, () => {
      const data = Buffer.from(bodies.map((body) => encodeFrame(framing, body)).join(""));
      const found: string[] = [];
      let at = 0;
      for (let frame = frameAt(data, framing); frame !== undefined; frame = frameAt(data, framing, at)) {
        found.push(data.toString("utf8", frame.start, frame.end));
        at = frame.next;
      }
      expect(found).toEqual(bodies);
      expect(at).toBe(data.length);
      for (let cut = 0; cut < Buffer.byteLength(encodeFrame(framing, bodies[0] as string)); cut++)
        expect(frameAt(data.subarray(0, cut), framing)).toBeUndefined();
    });
  }

  it(
    "reads a Content-Length header block as the decoder does: " +
      "any case, bare LF, other headers, blank lines before it",
    () => {
      const body = '{"id":3}';
      const data = Buffer.from(`\r\n\ncontent-type: x\ncontent-length:${body.length}\n\n${body}`);
      const frame = frameAt(data, "content-length");
      expect(frame && data.toString("utf8", frame.start, frame.end)).toBe(body);
      expect(frame?.next).toBe(data.length);
    },
  );
});
