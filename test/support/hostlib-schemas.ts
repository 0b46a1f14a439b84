// harn-hostlib's own JSON Schemas (copied from shared/reference/hostlib-schemas
// into test/fixtures/hostlib-schemas), compiled once: what the wire tests
// hold our requests and answers to.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import Ajv2020Module from "ajv/dist/2020.js";

export const HOSTLIB_SCHEMA_DIR = new URL("../fixtures/hostlib-schemas/", import.meta.url);
const ajv = new Ajv2020Module.default({ strict: false });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/** Validate `value` against one upstream schema file (`lock_try.request.json`); the errors, or null when valid. */
export function checkHostlib(file: string, value: unknown): string | null {
  let validate = compiled.get(file);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(new URL(file, HOSTLIB_SCHEMA_DIR), "utf8")));
    compiled.set(file, validate);
  }
  return validate(value) ? null : JSON.stringify(validate.errors);
}

/** Whether harn-hostlib has a schema for `method` (a builtin it defines); our extensions have none. */
export function hasHostlibSchema(method: string): boolean {
  return existsSync(new URL(`${method}.response.json`, HOSTLIB_SCHEMA_DIR));
}

/** The builtins harn-hostlib has schemas for. */
export function hostlibSchemaMethods(): Set<string> {
  return new Set(readdirSync(HOSTLIB_SCHEMA_DIR).map((file) => file.replace(/\.(request|response)\.json$/, "")));
}
