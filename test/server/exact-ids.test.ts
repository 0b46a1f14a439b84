// Ids are echoed exactly: a numeric id whose JavaScript value would print
// differently (or not at all) comes back as the token the client sent, in
// results and in every kind of error; the common ids come back as they are.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJson } from "../../src/transport/lossless-json.js";
import { RawId, exactId, replyJson, stringifyMessage } from "../../src/server/request-id.js";
import { frame, frameBodies } from "../support/wire-frames.js";
import { STORES, WireSession, settle } from "../support/wire-session.js";

/** Numeric id tokens whose value prints back differently, or not at all. */
const rawTokens = [
  "-0",
  "-0.0",
  "1.0",
  "1e2",
  "1E+2",
  "100e-2",
  "0.1e1",
  "1e21",
  "1e400",
  "-1e400",
  "9007199254740993",
  "-9007199254740993",
  "18446744073709551615",
];
/** Ids that print back as sent: they stay plain numbers and strings. */
const plainTokens = ["0", "7", "-5", "1.5", "0.30000000000000004", "9007199254740991", '"abc"', '""'];

/** Message layouts with the id token in different places, with decoys named "id" inside params and strings. */
const layouts: ((id: string) => string)[] = [
  (id) => `{"jsonrpc":"2.0","id":${id},"method":"current_seq"}`,
  (id) => `{"method":"current_seq","params":{},"jsonrpc":"2.0","id":${id}}`,
  (id) => ` { "jsonrpc" : "2.0" ,\t"s":"\\"id\\":1", "id" :\r\n${id} , "method":"current_seq" } `,
  (id) => `{"jsonrpc":"2.0","\\u0069d":${id},"method":"current_seq"}`,
  (id) => `{"jsonrpc":"2.0","id":{"id":4},"x":[{"id":5}],"id":${id},"method":"current_seq"}`,
];

/** The raw id token of a reply line as written (the writer puts it right after "jsonrpc"). */
const rawId = (line: string) => (/^\{"jsonrpc":"2\.0","id":([^,]*),/.exec(line) as RegExpExecArray)[1];

describe("exactId", () => {
  it(
    "keeps the number for ids that print back as sent, " +
      "and makes a RawId of the token otherwise, wherever the id is",
    () => {
      for (const layout of layouts) {
        for (const token of [...rawTokens, ...plainTokens].filter((t) => !t.startsWith('"'))) {
          const text = layout(token);
          const id = (parseJson(text) as { id: number | bigint }).id;
          const exact = exactId(text, id);
          if (rawTokens.includes(token)) expect(exact, text).toEqual(new RawId(token, id));
          else expect(exact, text).toBe(id);
        }
      }
    },
  );

  it("finds the token of any number from JSON's grammar", () => {
    const token = fc
      .tuple(
        fc.constantFrom("", "-"),
        fc.oneof(fc.constant("0"), fc.bigInt({ min: 1n, max: 10n ** 30n }).map(String)),
        fc.constantFrom("", ".0", ".25", ".000"),
        fc.constantFrom("", "e0", "E+3", "e-2", "e400"),
      )
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(token, fc.constantFrom(...layouts), (t, layout) => {
        const text = layout(t);
        const id = (parseJson(text) as { id: number | bigint }).id;
        const exact = exactId(text, id);
        expect(exact instanceof RawId ? exact.token : String(exact)).toBe(t);
      }),
    );
  });

  it("takes the last of duplicate ids, as JSON.parse does", () => {
    const text = '{"jsonrpc":"2.0","id":1.0,"id":2.0,"method":"x"}';
    expect(exactId(text, (JSON.parse(text) as { id: number }).id)).toEqual(new RawId("2.0", 2));
  });

  it("writes a RawId as its token, in results and errors", () => {
    expect(stringifyMessage({ jsonrpc: "2.0", id: new RawId("-0", -0), result: { a: 1 } } as never)).toBe(
      '{"jsonrpc":"2.0","id":-0,"result":{"a":1}}',
    );
    expect(
      stringifyMessage({ jsonrpc: "2.0", id: new RawId("1e400", Infinity), error: { code: 1, message: "m" } } as never),
    ).toBe('{"jsonrpc":"2.0","id":1e400,"error":{"code":1,"message":"m"}}');
  });

  it("writes a reply from its template as the whole envelope would be written", () => {
    const ids = [
      0,
      7,
      -3,
      2.5,
      "",
      'a"b\u2028',
      new RawId("-0", -0),
      new RawId("18446744073709551615", 2n ** 64n - 1n),
    ];
    const results = [undefined, null, true, 0, "x", [1, { a: null }], { locked: true, holder: 1 }];
    for (const id of ids)
      for (const result of results) {
        const json = stringifyMessage({ jsonrpc: "2.0", id, result: result === undefined ? null : result } as never);
        expect(replyJson(id, result)).toBe(json);
        expect(replyJson(id, result, true)).toBe(`${json}\n`);
      }
  });
});

describe.each(STORES)("%s store", (store) => {
  for (const framing of ["ndjson", "content-length"] as const) {
    describe(`ids on the wire (${framing})`, () => {
      const bodies = (id: string) => [
        `{"jsonrpc":"2.0","id":${id},"method":"current_seq"}`,
        `{"jsonrpc":"2.0","id":${id},"method":"no_such_method"}`,
        `{"jsonrpc":"2.0","id":${id},"method":"lock_try","params":{"agent_id":0,"path":"a"}}`,
        `{"jsonrpc":"1.0","id":${id},"method":"current_seq"}`,
        `{"jsonrpc":"2.0","id":${id}}`,
      ];

      it("echoes every id token exactly in results, -32601, -32602 and -32600", async () => {
        const wire = await WireSession.start({ store, framing });
        const tokens = [...rawTokens, ...plainTokens];
        wire.sendRaw(frame(framing, ...tokens.flatMap(bodies)));
        const replies = await wire.waitFor(tokens.length * 5, framing);
        const lines = frameBodies(framing, wire.stdout);
        expect(lines.map(rawId)).toEqual(tokens.flatMap((t) => [t, t, t, t, t]));
        expect(replies.map((r) => r.result ?? r.error.code)).toEqual(
          tokens.flatMap(() => [0, -32601, -32602, -32600, -32600]),
        );
      });

      it("echoes a waiting acquire's id exactly and cancels it by the id's value", async () => {
        const wire = await WireSession.start({ store, framing });
        wire.sendRaw(
          frame(
            framing,
            '{"jsonrpc":"2.0","id":1,"method":"agent_register"}',
            '{"jsonrpc":"2.0","id":2,"method":"agent_register"}',
            '{"jsonrpc":"2.0","id":3,"method":"lock_try","params":{"agent_id":1,"path":"a"}}',
            '{"jsonrpc":"2.0","id":1e2,"method":"lock_acquire","params":{"agent_id":2,"paths":["a"],"wait_ms":600000}}',
            '{"jsonrpc":"2.0","id":18446744073709551615,"method":"lock_acquire",' +
              '"params":{"agent_id":2,"paths":["a"],"wait_ms":600000}}',
          ),
        );
        await wire.waitFor(3, framing);
        wire.sendRaw(
          frame(
            framing,
            '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":100}}',
            '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":18446744073709551615}}',
          ),
        );
        await wire.waitFor(5, framing);
        await settle();
        const lines = frameBodies(framing, wire.stdout).slice(3);
        expect(lines.map(rawId)).toEqual(["1e2", "18446744073709551615"]);
        expect(lines.every((line) => line.includes('"code":-32800'))).toBe(true);
      });
    });
  }
});
