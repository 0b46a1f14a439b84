// The protocol's facts that the core also uses, without zod: the core and
// the server load this at start, while the zod schemas (common.ts and the
// modules built on it) take these from here and load on first use.

/** Version of this wire protocol, reported by `initialize`. */
export const PROTOCOL_VERSION = "1";

/** Largest id and timestamp the registry accepts (2^53-1). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Largest unsigned 64-bit value, the range of an FNV-1a hash. */
export const MAX_U64 = (1n << 64n) - 1n;

/** What is wrong with an agent id that is not one (the registry's own check says the same). */
export const AGENT_ID_RANGE = "must be an integer from 1 to 2^53-1";

/** Most paths one lock_acquire, lock_renew or lock_check may name. */
export const MAX_PATHS_PER_ACQUIRE = 256;

/** How many events the registry keeps for `events_since`. */
export const EVENTS_KEPT = 10_000;

/** Edit operations of the version log. */
export const EDIT_OPS = [
  "snapshot",
  "write",
  "replace_range",
  "insert_after",
  "delete_range",
  "patch",
  "delete",
] as const;
/** The edit operation recorded when none is given. */
export const DEFAULT_EDIT_OP: (typeof EDIT_OPS)[number] = "write";

/** Agent lifecycle states. */
export const AGENT_STATES = ["active", "crashed", "gone"] as const;

/** Lock modes: readers share, a writer excludes everyone else. */
export const LOCK_MODES = ["exclusive", "shared"] as const;
/** The mode of a lock asked for without one. */
export const DEFAULT_LOCK_MODE: (typeof LOCK_MODES)[number] = "exclusive";

/** Why a lock stopped being held. */
export const RELEASE_REASONS = ["released", "expired", "crashed", "unregistered", "forced", "replaced"] as const;

/** Current snapshot format: 2 adds lock modes and fences; 1 still restores. */
export const SNAPSHOT_FORMAT_VERSION = 2;
