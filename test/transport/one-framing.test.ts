// One source for how a frame is written and read. The project's code frames
// and splits Content-Length messages through src/transport/framing.ts only
// (the server's decoder, the connect bridge, the benchmark client); the
// tests do it through test/support/wire-frames.ts only, their one parser
// written independently of the server's on purpose. The benchmark
// baselines (bench/baselines/) keep their own on purpose too: what they
// measure must not move when our code does. A copy anywhere else fails here.
import { describe, expect, it } from "vitest";
import { codeLines, matches, sourceFiles } from "../support/source-files.js";

const ALLOWED = new Set(["src/transport/framing.ts", "test/support/wire-frames.ts"]);

/**
 * A Content-Length header written or matched in code (tests build such headers as input, so they are not held to this).
 */
const HEADER = /content-length\s*:/i;
/** A Content-Length value parsed with a regular expression (`Content-Length: (\d+)`), tests included. */
const PARSED = /content-length[^"'`\n]{0,6}\\d/i;
/** The blank line that ends a header block, looked for or written. */
const HEADER_END = /\\r\\n\\r\\n/;

const all = sourceFiles("src", "bin", "bench", "scripts", "protocol", "test").filter(
  (file) => file.path !== "test/transport/one-framing.test.ts" && !file.path.startsWith("bench/baselines/"),
);
const code = all.filter((file) => !file.path.endsWith(".test.ts"));
const elsewhere = (files: typeof all) => files.filter((file) => !ALLOWED.has(file.path));

describe("Content-Length framing has one source", () => {
  it("no code outside framing.ts and the tests' wire-frames.ts writes or matches a Content-Length header", () => {
    expect(matches(elsewhere(code), HEADER)).toEqual([]);
    expect(matches(elsewhere(code), HEADER_END)).toEqual([]);
  });

  it("no file, tests included, parses a Content-Length value outside those two", () => {
    expect(matches(elsewhere(all), PARSED)).toEqual([]);
  });

  it("both sources are where this test looks", () => {
    for (const path of ALLOWED)
      expect(
        matches(
          all.filter((file) => file.path === path),
          HEADER,
        ).length,
      ).toBeGreaterThan(0);
  });

  it("catches the copies it replaced", () => {
    const replaced = [
      'const length = Number(/content-length:\\s*(\\d+)/i.exec(data.toString("latin1", 0, headerEnd))?.[1]);',
      "return out.split(/Content-Length: \\d+\\r\\n\\r\\n/).filter(Boolean);",
      'this.sendRaw(this.framing === "ndjson" ? ' +
        "`${body}\\n` : `Content-Length: ${Buffer.byteLength(body)}\\r\\n\\r\\n${body}`);",
      'const headerEnd = data.indexOf("\\r\\n\\r\\n");',
    ];
    const file = { path: "copy.ts", lines: codeLines(replaced.join("\n")) };
    expect(
      replaced.map((_, index) =>
        [HEADER, PARSED, HEADER_END].some((pattern) => pattern.test(file.lines[index] as string)),
      ),
    ).toEqual([true, true, true, true]);
    expect(matches([file], PARSED)).toHaveLength(2);
  });
});
