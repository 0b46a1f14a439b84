// What `require("harn-registry")` loads (the "require" condition of
// package.json "exports"): the package is ESM-only, so say so plainly
// instead of Node's ERR_PACKAGE_PATH_NOT_EXPORTED. It is also what a
// require() gets on Node versions that can require() ES modules: one
// answer on every Node the package supports.
"use strict";
const error = new Error(
  'harn-registry is ESM-only: load it with import() (`const { spawnSidecar } = await import("harn-registry")`) or from an ES module (.mjs, or "type": "module" in package.json), not with require()',
);
error.code = "ERR_REQUIRE_ESM";
throw error;
