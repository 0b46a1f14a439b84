// One constructor per kind of error, in one module: src/server/rpc-errors.ts
// builds every error the server answers with (parse error, invalid request,
// message too large, method not found, invalid params, internal, cancelled,
// each domain error) from protocol/errors.ts's codes. Anywhere else in src/,
// building a ResponseError, an object with a `code`, or picking a code from
// the tables fails here. (src/core is held to the first and last only: its
// errors are DomainError and InvalidInputError, which rpc-errors.ts maps.)
import { describe, expect, it } from "vitest";
import { codeLines, matches, sourceFiles } from "../support/source-files.js";

const MODULE = "src/server/rpc-errors.ts";
const CONSTRUCTED = /new ResponseError\b/;
const CODE_TABLES = /\b(RpcErrorCodes|DomainErrors)\b/;
/** An object literal with a `code` member, written out or shorthand (`${code}` in a template is not one). */
const CODE_MEMBER = /(?<!\$)[{,]\s*code\s*[:,}]/;

const src = sourceFiles("src").filter((file) => file.path !== MODULE);

describe(`errors are built in ${MODULE} only`, () => {
  it("no other file in src/ constructs a ResponseError or takes a code from protocol/errors.ts", () => {
    expect(matches(src, CONSTRUCTED)).toEqual([]);
    expect(matches(src, CODE_TABLES)).toEqual([]);
  });

  it("no other file in src/ (src/core aside) writes an object with a code", () => {
    expect(
      matches(
        src.filter((file) => !file.path.startsWith("src/core/")),
        CODE_MEMBER,
      ),
    ).toEqual([]);
  });

  it("the module is where this test looks", () => {
    const module = sourceFiles("src/server").filter((file) => file.path === MODULE);
    expect(matches(module, CONSTRUCTED).length).toBeGreaterThan(0);
    expect(matches(module, CODE_MEMBER).length).toBeGreaterThan(0);
  });

  it("catches the hand-built errors it replaced", () => {
    const replaced = [
      "throw new ResponseError(RpcErrorCodes.MethodNotFound, `Unknown method ${JSON.stringify(method)}`, { method });",
      'void this.writer.write({ jsonrpc: "2.0", id, error: { code, message } } as Message);',
      "this.reject({ id: null, code: RpcErrorCodes.ParseError, message: `Parse error: ${problem}` });",
      'return { error: { id, code: 1004, message: "shutting down" } };',
    ];
    const lines = codeLines(replaced.join("\n"));
    expect(lines.map((line) => [CONSTRUCTED, CODE_TABLES, CODE_MEMBER].some((pattern) => pattern.test(line)))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(CODE_MEMBER.test("log(`exiting with code ${code}: ${why}`);")).toBe(false);
  });
});
