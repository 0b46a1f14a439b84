// Bundles the sidecar, the typed client and the benchmarks into dist/.
import { build } from "esbuild";

await build({
  entryPoints: {
    "harn-registry": "bin/main.ts",
    client: "src/client/index.ts",
    "bench/core": "bench/core.ts",
    "bench/startup": "bench/startup.ts",
    "bench/locking": "bench/locking.ts",
    "bench/durable": "bench/durable.ts",
    "scripts/gen-protocol": "scripts/gen-protocol.ts",
  },
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "bundle",
  minify: true,
  legalComments: "none",
  banner: { js: 'import { createRequire as __harnCreateRequire } from "node:module"; const require = __harnCreateRequire(import.meta.url);' },
  logLevel: "warning",
});
