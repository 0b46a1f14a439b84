import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJson } from "../../src/transport/lossless-json.js";

/** Digit runs of every length from `min` to `max` (size "max": fast-check would otherwise keep them short). */
const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max, size: "max" });

/**
 * A number token from JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, with long digit runs.
 */
const numberToken = fc
  .tuple(
    fc.constantFrom("", "-"),
    fc.oneof(
      fc.constant("0"),
      fc.tuple(fc.constantFrom(..."123456789"), digits(0, 40)).map(([a, b]) => a + b),
    ),
    fc.option(
      digits(1, 40).map((d) => `.${d}`),
      { nil: "" },
    ),
    fc.option(
      fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), digits(1, 20)).map((parts) => parts.join("")),
      { nil: "" },
    ),
  )
  .map((parts) => parts.join(""));

/**
 * What parseJson must give for a valid number token: JSON.parse's value, except integers beyond 2^53-1, which stay
 * exact.
 */
function expected(token: string): unknown {
  const value = JSON.parse(token) as number;
  return /^-?[0-9]+$/.test(token) && !Number.isSafeInteger(value) ? BigInt(token) : value;
}

/** Texts that hold `token` as a value, as an array element, bare and inside strings (where it must be left alone). */
const placements = (token: string): [string, unknown][] => [
  [token, expected(token)],
  [`{"n":${token},"s":"x"}`, { n: expected(token), s: "x" }],
  [`[${token}, ${token} ,1]`, [expected(token), expected(token), 1]],
  [` \r\n${token}`, expected(token)],
  [`{"n": \n\t\r${token}}`, { n: expected(token) }],
  [`[\n ${token},\t${token}]`, [expected(token), expected(token)]],
  [`{"s":"${token}","t":"a ${token}\\" ${token}"}`, { s: token, t: `a ${token}" ${token}` }],
  [`{"${token}":${token}}`, { [token]: expected(token) }],
];

describe("parseJson", () => {
  it(
    "parses every number of JSON's grammar as JSON.parse does, " +
      "keeping integers beyond 2^53-1 exact, in strings and outside",
    () => {
      fc.assert(
        fc.property(numberToken, (token) => {
          for (const [text, value] of placements(token)) expect(parseJson(text), text).toEqual(value);
        }),
        { numRuns: 2000 },
      );
    },
  );

  it(
    "refuses what JSON.parse refuses, near numbers too " +
      "(leading zeros, a number as an object key, a bare sign or point)",
    () => {
      const invalid = fc.oneof(
        numberToken.map((token) => `{${token}:1}`),
        digits(16, 30).map((d) => `{"a":1,1${d}:1}`),
        digits(16, 30).map((d) => `[0${d}]`),
        digits(16, 30).map((d) => `[-0${d}]`),
        digits(16, 30).map((d) => `[${d}.]`),
        digits(16, 30).map((d) => `[1${d}e]`),
        digits(16, 30).map((d) => `[- 1${d}]`),
        digits(16, 30).map((d) => `[1${d}x]`),
      );
      fc.assert(
        fc.property(invalid, (text) => {
          expect(() => JSON.parse(text)).toThrow(SyntaxError);
          expect(() => parseJson(text), text).toThrow(SyntaxError);
        }),
      );
    },
  );

  it("keeps what JavaScript prints for 0.1 + 0.2, and long fractions and exponents, as numbers", () => {
    expect(
      parseJson('{"a":0.30000000000000004,"b":1e0000000000000001,"c":-1.0000000000000000000001e-00000000000000007}'),
    ).toEqual({
      a: 0.30000000000000004,
      b: 10,
      c: -1e-7,
    });
  });

  it("keeps integers beyond 2^53 exact as bigint", () => {
    expect(parseJson('{"hash":18446744073709551615,"size":3}')).toEqual({ hash: 18446744073709551615n, size: 3 });
    expect(parseJson("[9007199254740993, -9007199254740993]")).toEqual([9007199254740993n, -9007199254740993n]);
    const proto = parseJson('{"__proto__":18446744073709551615}') as object;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value).toBe(18446744073709551615n);
  });

  it(
    "with bigintsOnlyWhenRounded, keeps 2^53 and -2^53 as numbers (a double holds them exactly) " +
      "and makes bigints of the integers a double rounds",
    () => {
      const options = { bigintsOnlyWhenRounded: true };
      expect(parseJson('{"next_id":9007199254740992,"n":-9007199254740992}', options)).toEqual({
        next_id: 2 ** 53,
        n: -(2 ** 53),
      });
      expect(parseJson("[9007199254740993,-9007199254740993,90071992547409920,18446744073709551615]", options)).toEqual(
        [9007199254740993n, -9007199254740993n, 90071992547409920n, 18446744073709551615n],
      );
      expect(parseJson("9007199254740992")).toBe(9007199254740992n);
      fc.assert(
        fc.property(numberToken, (token) => {
          const value = expected(token);
          const want =
            typeof value === "bigint" &&
            Number(value) === 2 ** 53 * Math.sign(Number(value)) &&
            BigInt(Number(value)) === value
              ? Number(value)
              : value;
          expect(parseJson(`{"n":${token}}`, options), token).toEqual({ n: want });
        }),
      );
    },
  );

  it("finds a big integer wherever it starts in the text, and ignores shorter runs of digits", () => {
    for (let pad = 0; pad < 40; pad++) {
      const key = "k".repeat(pad);
      expect(parseJson(`{"${key}":[123456789012345,9007199254740993]}`)).toEqual({
        [key]: [123456789012345, 9007199254740993n],
      });
    }
  });

  it("parses nesting as deep as JSON.parse takes, with a big integer at the bottom", () => {
    const depth = 10_000;
    let value: unknown = parseJson(`${"[".repeat(depth)}9007199254740993${"]".repeat(depth)}`);
    for (let i = 0; i < depth; i++) value = (value as unknown[])[0];
    expect(value).toBe(9007199254740993n);
    let object: unknown = parseJson(`${'{"a":'.repeat(depth)}18446744073709551615${"}".repeat(depth)}`);
    for (let i = 0; i < depth; i++) object = (object as { a: unknown }).a;
    expect(object).toBe(18446744073709551615n);
  });

  it("does not look inside strings, escaped quotes included", () => {
    expect(parseJson('{"s":"x\\" 18446744073709551615 \\"","n":18446744073709551615}')).toEqual({
      s: 'x" 18446744073709551615 "',
      n: 18446744073709551615n,
    });
  });

  it("still rejects invalid JSON", () => {
    expect(() => parseJson('{"a":18446744073709551615,}')).toThrow(SyntaxError);
    expect(() => parseJson("{")).toThrow(SyntaxError);
  });
});
