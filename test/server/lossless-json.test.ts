import { describe, expect, it } from "vitest";
import { parseJson } from "../../src/server/lossless-json.js";

describe("parseJson", () => {
  it("keeps integers beyond 2^53 exact as bigint", () => {
    expect(parseJson('{"hash":18446744073709551615,"size":3}')).toEqual({ hash: 18446744073709551615n, size: 3 });
    expect(parseJson("[9007199254740993, -9007199254740993]")).toEqual([9007199254740993n, -9007199254740993n]);
  });

  it("leaves safe integers, floats, exponents and strings alone", () => {
    expect(parseJson('{"a":9007199254740991,"b":1234567890123456.5,"c":12345678901234567e2,"d":"18446744073709551615"}')).toEqual({
      a: 9007199254740991,
      b: 1234567890123456.5,
      c: 12345678901234567e2,
      d: "18446744073709551615",
    });
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
