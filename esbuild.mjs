// Bundles the sidecar, the typed client and the benchmarks into dist/.
import { build } from "esbuild";

await build({
  entryPoints: { "bench/core": "bench/core.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  logLevel: "warning",
});
