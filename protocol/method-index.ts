import index from "./method-index.json" with { type: "json" };
import type { HostCallable, MethodName } from "./methods.js";
import type { Plan } from "./precheck-plan.js";

/** What the server needs of a method before zod loads: its flags, its parameters and its precheck's plan. */
export interface MethodIndexEntry {
  /** See MethodSpec in methods.ts. */
  actsAsAgent?: true;
  envelope?: true;
  bareOnly?: true;
  /** The names of its parameters, in the order of its params schema. */
  parameters: string[];
  /** How its params are prechecked (see precheck.ts). */
  precheck: Plan;
}

/**
 * Every method, in table order, without zod: protocol/method-index.json,
 * which `npm run gen:protocol` makes from methods.ts (a test fails when
 * it differs).
 */
export const methodIndex = index as unknown as Record<MethodName, MethodIndexEntry>;

/** Every method name, in table order. */
export const methodNames = Object.keys(methodIndex) as MethodName[];

/** Every method an envelope may carry, in table order (what host/capabilities lists). */
export const hostCallableNames = methodNames.filter((name) => !("bareOnly" in methodIndex[name])) as HostCallable[];
