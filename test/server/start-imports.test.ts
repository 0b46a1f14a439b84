// What the sidecar loads at start: the modules src/cli/main.ts imports
// statically, followed through their own static imports. None of them may
// load zod (the protocol's schemas are built on first use: see
// protocol/on-demand.ts), vscode-jsonrpc (the client's, not the server's)
// or node:crypto. An import with only types in braces counts: under
// verbatimModuleSyntax it still loads the module; `import type` does not.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRY = "src/cli/main.ts";
/** Its import is turned into a require() on first use in the bundle (esbuild.mjs). */
const ON_DEMAND = "protocol/on-demand.ts";
const STATIC_IMPORT = /^(?:import|export)\s+(?!type\b)(?:[^;]*?\sfrom\s*)?"([^"]+)"/gm;

/** The repository files and the packages (or Node modules) loaded at start, from `entry` on. */
function loadedAtStart(entry: string): { files: string[]; packages: string[] } {
  const files = new Set([entry]);
  const packages = new Set<string>();
  for (const file of files) {
    if (file === ON_DEMAND || !file.endsWith(".ts")) continue;
    for (const [, specifier] of readFileSync(join(ROOT, file), "utf8").matchAll(STATIC_IMPORT)) {
      if (!(specifier as string).startsWith(".")) {
        packages.add(specifier as string);
        continue;
      }
      const target = relative(ROOT, join(dirname(join(ROOT, file)), specifier as string));
      const source = target.replace(/\.js$/, ".ts");
      files.add(existsSync(join(ROOT, source)) ? source : target);
    }
  }
  return { files: [...files], packages: [...packages] };
}

describe("what the sidecar loads at start", () => {
  const { files, packages } = loadedAtStart(ENTRY);

  it("follows the imports (this test looks where the server is)", () => {
    expect(files).toContain("src/server/dispatch.ts");
    expect(files).toContain("src/core/registry.ts");
    expect(files).toContain(ON_DEMAND);
  });

  it("loads no zod, vscode-jsonrpc or node:crypto", () => {
    expect(packages.filter((name) => /^(zod|vscode-jsonrpc)(\/|$)|^node:crypto$/.test(name))).toEqual([]);
  });

  it("builds no zod schema: the protocol's zod modules load on first use only", () => {
    expect(
      files.filter((file) => /^protocol\/(common|events|methods|precheck|snapshot|zod-schemas)\.ts$/.test(file)),
    ).toEqual([]);
  });
});
