// The body of bin/harn-registry, bundled on its own as dist/launch.cjs:
// runs the sidecar's bundle (dist/harn-registry.cjs, one CommonJS script)
// from V8's code cache, so that a start deserializes the code it runs
// instead of compiling it. The build makes the cache (esbuild.mjs: a short
// session run with HARN_REGISTRY_CODE_CACHE=write); V8 refuses a cache
// made by another V8 or with other V8 flags, and the bundle is then
// compiled as usual. CommonJS: __dirname is dist/, and this file's require
// serves the bundle (which requires Node's modules only).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";
import { keepYoungGenerationSmall } from "../server/heap-tuning.js";

const BUNDLE = join(__dirname, "harn-registry.cjs");
const CACHE = join(__dirname, "harn-registry.cache");

// V8 accepts a code cache only under the flags it was made with: set this one before anything is compiled, in the run
// that makes the cache as in every other (openRuntime sets it again, for servers run in-process).
keepYoungGenerationSmall();
const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(BUNDLE, "utf8")}\n})`;
/** HARN_REGISTRY_CODE_CACHE: "write" makes the cache (the build), "check" says on stderr whether V8 took it. */
const mode = process.env.HARN_REGISTRY_CODE_CACHE;
const cachedData = mode === "write" ? undefined : readCache();
const script = new Script(source, { filename: BUNDLE, cachedData });
if (mode === "write") process.once("exit", () => writeFileSync(CACHE, script.createCachedData()));
if (mode === "check") {
  const verdict = cachedData === undefined ? "missing" : script.cachedDataRejected ? "refused" : "used";
  process.stderr.write(`harn-registry: code cache ${verdict}\n`);
}
const bundle = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(bundle.exports, require, bundle, BUNDLE, __dirname);

/** The cache, if the build made one. */
function readCache(): Buffer | undefined {
  try {
    return readFileSync(CACHE);
  } catch {
    return undefined;
  }
}
