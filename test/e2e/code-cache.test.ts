// The bin starts from the V8 code cache the build made
// (src/cli/launch.ts), and still runs when V8 refuses it: here because a
// V8 flag in NODE_OPTIONS is not one the cache was made with.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import { BIN } from "../support/sidecar-process.js";

function version(nodeOptions: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, HARN_REGISTRY_CODE_CACHE: "check" };
  if (nodeOptions === undefined) delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = nodeOptions;
  const run = spawnSync(process.execPath, [BIN, "--version"], { env, encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("the bin's code cache", () => {
  it("is used by a plain start", () => {
    expect(version(undefined)).toEqual({
      status: 0,
      stdout: `${pkg.version}\n`,
      stderr: "harn-registry: code cache used\n",
    });
  });

  it("is refused under other V8 flags, and the bin runs all the same", () => {
    expect(version("--max-old-space-size=200")).toEqual({
      status: 0,
      stdout: `${pkg.version}\n`,
      stderr: "harn-registry: code cache refused\n",
    });
  });
});
