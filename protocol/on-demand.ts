import * as schemas from "./zod-schemas.js";

/**
 * The zod schemas (zod-schemas.ts), for code that runs at start and uses
 * them only now and then. Building them takes longer than the rest of the
 * start, so the sidecar's bundle builds them on the first call: there
 * esbuild.mjs turns the import above into a require() made by this
 * function, which esbuild bundles as a module evaluated when first
 * required. Run from source (tests), they are built on import.
 */
export function zodSchemas(): typeof schemas {
  return schemas;
}
