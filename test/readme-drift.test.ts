// README.md against the program: the generated blocks (the command line
// synopsis and flag table, from src/cli/flags.ts) must be what `npm run
// gen:readme` makes today, and the lists written by hand must name the
// methods protocol/methods.ts declares.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type MethodSpec, methodNames, methods } from "../protocol/methods.js";
import { README_BLOCKS, renderReadme } from "../scripts/readme-files.js";

const readme = readFileSync("README.md", "utf8");

/** The `names` in backticks of the README text that starts with `lead` and ends at `end`. */
function namesAfter(lead: string, end: string): string[] {
  const start = readme.indexOf(lead);
  expect(start, `README.md no longer says ${JSON.stringify(lead)}`).toBeGreaterThanOrEqual(0);
  const text = readme.slice(start + lead.length, readme.indexOf(end, start + lead.length));
  return [...text.matchAll(/`([a-z_]+)`/g)].map((match) => match[1] as string);
}

describe("README.md", () => {
  it.each(Object.keys(README_BLOCKS))("its generated %s block is up to date (run npm run gen:readme)", (name) => {
    const block = (text: string) =>
      text.slice(text.indexOf(`<!-- gen:readme ${name} -->`), text.indexOf(`<!-- /gen:readme ${name} -->`));
    expect(block(readme)).toBe(block(renderReadme(readme)));
  });

  it("lists the methods that act as an agent (Shared server) by their names, as protocol/methods.ts marks them", () => {
    const actsAsAgent = Object.entries(methods as Record<string, MethodSpec>)
      .filter(([, spec]) => spec.actsAsAgent === true)
      .map(([name]) => name);
    expect(namesAfter('"acts as agent" in protocol/README.md:', ")")).toEqual(actsAsAgent);
  });

  it("says which harn-hostlib builtins are served (the upstream group) and which are not", () => {
    const upstream = Object.entries(methods as Record<string, MethodSpec>)
      .filter(([, spec]) => spec.group === "upstream")
      .map(([name]) => name);
    const served = namesAfter("**harn-hostlib's builtins.** Served, wire-compatible:", "(the\nfirst ten rows above)");
    expect(served).toEqual(upstream);
    expect(served).toContain("current_agent_id");
    const notServed = namesAfter("Not served: its code\nindex builtins", "(this sidecar indexes");
    for (const name of notServed)
      expect(methodNames, `${name} is served now: move it to the served list`).not.toContain(name);
    const fixtures = new Set(
      readdirSync("test/fixtures/hostlib-schemas").map((file) => file.replace(/\.(request|response)\.json$/, "")),
    );
    for (const name of fixtures) expect([...served, ...notServed], `harn-hostlib's ${name}`).toContain(name);
  });
});
