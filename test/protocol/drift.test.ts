// The committed protocol/schemas/*.json and protocol/README.md must be what
// `npm run gen:protocol` makes from protocol/methods.ts today.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderProtocolFiles } from "../../scripts/protocol-files.js";

describe("generated protocol files", () => {
  const files = renderProtocolFiles();

  it.each([...files.keys()])("%s is up to date (run npm run gen:protocol)", (path) => {
    expect(readFileSync(path, "utf8")).toBe(files.get(path));
  });

  it("has no stale schema files", () => {
    const committed = readdirSync("protocol/schemas").map((name) => `protocol/schemas/${name}`);
    expect(committed.sort()).toEqual([...files.keys()].filter((p) => p.startsWith("protocol/schemas/")).sort());
  });
});
