// Bundles the sidecar, the typed client and the benchmarks into dist/.
// The sidecar is built on its own with code splitting, so that the code
// used only by --state, --listen and connect loads only when asked for.
// Its chunks go to dist/chunks, emptied first: they are part of the
// package, and chunks of earlier builds must not ship with it.
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

await rm("dist/chunks", { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { "harn-registry": "bin/main.ts" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
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
    "bench/baselines/stock-server": "bench/baselines/stock-server.ts",
    "bench/baselines/raw-echo": "bench/baselines/raw-echo.ts",
    "scripts/gen-protocol": "scripts/gen-protocol.ts",
    "scripts/gen-readme": "scripts/gen-readme.ts",
  },
});
