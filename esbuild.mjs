// Bundles the sidecar, its launcher, the typed client and the benchmarks
// into dist/. The sidecar is one CommonJS script, dist/harn-registry.cjs,
// that bin/harn-registry runs through dist/launch.cjs from V8's code cache
// (dist/harn-registry.cache, made last: scripts/code-cache.ts). The code
// of --state, --listen, connect, status and demo is in it, as modules
// that esbuild evaluates only when they are imported, and V8 compiles
// only what runs. Files of earlier builds go first: the cache of an
// earlier bundle must never be taken for this one's.
import { readFile, rm } from "node:fs/promises";
import { build } from "esbuild";

/**
 * protocol/on-demand.ts hands out the zod schemas; in the sidecar they are
 * built on the first call, not at start. Its `import * as schemas` becomes
 * a require() made by the call, which esbuild bundles as a module
 * evaluated when first required (with zod and everything it imports).
 */
const zodOnDemand = {
  name: "zod-on-demand",
  setup(build) {
    build.onLoad({ filter: /[\\/]protocol[\\/]on-demand\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, "utf8");
      const eager = 'import * as schemas from "./zod-schemas.js";';
      if (!source.includes(eager) || !source.includes("return schemas;"))
        throw new Error(`${path} is no longer in the form esbuild.mjs rewrites`);
      const contents = source
        .replace(eager, "let schemas;")
        .replace("return schemas;", 'return (schemas ??= require("./zod-schemas.js"));');
      return { contents, loader: "ts" };
    });
  },
};

const common = {
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "bundle",
  minify: true,
  legalComments: "none",
  banner: {
    js:
      'import { createRequire as __harnCreateRequire } from "node:module"; ' +
      "const require = __harnCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
};

for (const stale of ["dist/chunks", "dist/harn-registry.js", "dist/harn-registry.cache"])
  await rm(stale, { recursive: true, force: true });
await build({
  ...common,
  format: "cjs",
  // Strict, as the ES modules it is made of; import.meta (a client module's way to find the bin) as they would see it.
  banner: {
    js: '"use strict"; var importMeta = { get url() { return require("node:url").pathToFileURL(__filename).href; } };',
  },
  define: { "import.meta": "importMeta" },
  outExtension: { ".js": ".cjs" },
  entryPoints: { "harn-registry": "src/cli/main.ts", launch: "src/cli/launch.ts" },
  // PostgreSQL's client is required from node_modules when --state names a database, never at a plain start.
  external: ["pg"],
  plugins: [zodOnDemand],
});
await build({
  ...common,
  entryPoints: {
    client: "src/client/index.ts",
    "bench/core": "bench/core.ts",
    "bench/snapshot": "bench/snapshot.ts",
    "bench/startup": "bench/startup.ts",
    "bench/locking": "bench/locking.ts",
    "bench/durable": "bench/durable.ts",
    "bench/rpc": "bench/rpc.ts",
    "bench/postgres": "bench/postgres.ts",
    "bench/baselines/stock-server": "bench/baselines/stock-server.ts",
    "bench/baselines/raw-echo": "bench/baselines/raw-echo.ts",
    "scripts/gen-protocol": "scripts/gen-protocol.ts",
    "scripts/gen-readme": "scripts/gen-readme.ts",
    "scripts/code-cache": "scripts/code-cache.ts",
  },
});
await import("./dist/scripts/code-cache.js");
