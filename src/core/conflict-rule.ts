import type { LockMode } from "../../protocol/common.js";
import { pathsOverlap } from "./paths.js";

/** A lock held or wanted: by whom, on which normalised path, in which mode. */
export interface LockClaim {
  readonly holder: number;
  readonly path: string;
  readonly mode: LockMode;
}

/** A claim; every claim is made here, so {@link conflicts} only ever sees one object shape. */
export function claim(holder: number, path: string, mode: LockMode): LockClaim {
  return { holder, path, mode };
}

/**
 * The conflict rule, written here and nowhere else: two claims conflict
 * when different holders make them, at least one is exclusive, and their
 * paths are equal or one is an ancestor directory of the other by whole
 * segments (`src` covers `src/a.rs`, not `srcx/a.rs`). The lock table
 * (lock-table.ts) applies it through its index, the lock policy
 * (locking.ts) to queued requests; test/core/lock-table.test.ts holds it to
 * a brute-force statement of the rule.
 */
export function conflicts(a: LockClaim, b: LockClaim): boolean {
  return a.holder !== b.holder && (a.mode === "exclusive" || b.mode === "exclusive") && pathsOverlap(a.path, b.path);
}

/** Whether a lock held in `held` mode already gives what a request in `wanted` mode asks (exclusive gives both). */
export function modeCovers(held: LockMode, wanted: LockMode): boolean {
  return held === "exclusive" || wanted === "shared";
}
