// The package as npm would publish it: packed, unpacked elsewhere, run from
// there. The sidecar is split into chunks loaded on demand (--state,
// --listen, connect, status, demo), so every chunk must ship with it.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Pack the project (as `npm publish` would) and unpack it; returns the unpacked package directory. */
function packAndUnpack(): string {
  const dir = tempDir("harn-pack-");
  const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").at(-1) as string;
  execFileSync("tar", ["xzf", join(dir, tarball), "-C", dir]);
  return join(dir, "package");
}

/** Every module `entry` imports, statically or on demand, followed through the relative imports of each. */
function moduleGraph(entry: string): { found: string[]; missing: string[] } {
  const found: string[] = [];
  const missing: string[] = [];
  const queue = [entry];
  const seen = new Set(queue);
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (!existsSync(file)) {
      missing.push(file);
      continue;
    }
    found.push(file);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(/(?:\bfrom|\bimport\s*\(?)\s*["'](\.{1,2}\/[^"'\s]+\.js)["']/g)) {
      const target = resolve(dirname(file), specifier as string);
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return { found, missing };
}

describe("the published package", () => {
  it("holds every module the sidecar loads, and runs from where it is unpacked", () => {
    const pkg = packAndUnpack();
    const { found, missing } = moduleGraph(join(pkg, "dist", "harn-registry.js"));
    expect(missing).toEqual([]);
    for (const lazy of ["socket", "connect", "status", "demo", "durable-state"]) {
      expect(found.some((file) => file.includes(`${join("dist", "chunks")}/${lazy}-`))).toBe(true);
    }

    const version = spawnSync(process.execPath, [join(pkg, "bin", "harn-registry"), "--version"], { encoding: "utf8" });
    expect(version.stderr).toBe("");
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const demo = spawnSync(process.execPath, [join(pkg, "bin", "harn-registry"), "demo"], { encoding: "utf8" });
    expect(demo.stderr).toBe("");
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain("Done: ");
  });
});
