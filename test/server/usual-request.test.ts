// The reader's fast path for requests written the usual way must hand over
// exactly the message the general path (parseJson, then checkEnvelope) would,
// and leave everything else to it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEnvelope } from "../../src/server/envelope.js";
import { usualRequest } from "../../src/server/usual-request.js";
import { parseJson } from "../../src/transport/lossless-json.js";

/** What the general path makes of `text`: the message, or undefined when it is not valid JSON or not a request. */
function general(text: string): unknown {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return undefined;
  }
  const checked = checkEnvelope(value, text);
  return "ok" in checked ? checked.ok : undefined;
}

const idTokens = fc.oneof(
  fc.integer({ min: -(10 ** 15) + 1, max: 10 ** 15 - 1 }).map(String),
  fc.constantFrom("-0", "0", "1.0", "1e2", "01", "-", "9007199254740993", "1000000000000000", '"7"', "null", "1 "),
);
const methods = fc.oneof(
  fc.constantFrom("lock_try", "lock_release_all", "host/call", ""),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: fc.constantFrom("a", '"', "\\", "\n", "\u0001", "é", "\ud83d\ude00"), maxLength: 6 }),
);
const rawMethods = fc.oneof(
  methods.map((m) => JSON.stringify(m).slice(1, -1)),
  methods,
);
const paramsTexts = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    "",
    " {}",
    "{} ",
    "{",
    "{}}",
    '{},"params":1',
    '{"n":18446744073709551615,"__proto__":1}',
    "[9007199254740993]",
    '{}, "id":2',
  ),
);
const texts = fc
  .tuple(idTokens, rawMethods, fc.option(paramsTexts, { nil: undefined }), fc.constantFrom("", " ", '"x":1,'))
  .map(([id, method, params, before]) =>
    params === undefined
      ? `{"jsonrpc":"2.0","id":${id},"method":"${method}"}`
      : `{"jsonrpc":"2.0","id":${id},${before}"method":"${method}","params":${params}}`,
  );

describe("usualRequest", () => {
  it("gives exactly the message the general path gives, or leaves the text to it", () => {
    fc.assert(
      fc.property(texts, (text) => {
        const fast = usualRequest(text);
        if (fast !== undefined) expect(fast, text).toEqual(general(text));
      }),
      { numRuns: 5000 },
    );
  });

  it("takes the usual requests, big integers in params included", () => {
    for (const text of [
      '{"jsonrpc":"2.0","id":1,"method":"lock_try","params":{"agent_id":1,"path":"a"}}',
      '{"jsonrpc":"2.0","id":-42,"method":"current_seq"}',
      '{"jsonrpc":"2.0","id":999999999999999,"method":"x","params":[18446744073709551615]}',
    ]) {
      const fast = usualRequest(text);
      expect(fast, text).toBeDefined();
      expect(fast).toEqual(general(text));
    }
  });

  it("leaves ids that do not print back, escapes, blanks and other layouts to the general path", () => {
    for (const text of [
      '{"jsonrpc":"2.0","id":1.0,"method":"x"}',
      '{"jsonrpc":"2.0","id":-0,"method":"x"}',
      '{"jsonrpc":"2.0","id":1000000000000000,"method":"x"}',
      '{"jsonrpc":"2.0","id":"1","method":"x"}',
      '{"jsonrpc":"2.0","id":1,"method":"a\\u0062"}',
      '{"jsonrpc":"2.0","id":1, "method":"x"}',
      '{"jsonrpc":"2.0","id":1,"method":"x","params":{},"id":2}',
      '{"jsonrpc":"2.0","id":1,"method":"x","params":{}} ',
      '{"id":1,"jsonrpc":"2.0","method":"x"}',
    ])
      expect(usualRequest(text), text).toBeUndefined();
  });
});
