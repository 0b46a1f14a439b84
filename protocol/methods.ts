import * as z from "zod/mini";
import {
  AgentId,
  AgentState,
  Count,
  Duration,
  EditOp,
  EditorId,
  Fence,
  HashInput,
  HashOutput,
  LockMode,
  Millis,
  ParamsObject,
  RegistryConfig,
  Seq,
  WirePath,
  recordOf,
} from "./common.js";
import { DEFAULT_EDIT_OP, DEFAULT_LOCK_MODE, EVENTS_KEPT, MAX_PATHS_PER_ACQUIRE } from "./constants.js";
import { RegistryEvent, events } from "./events.js";
import { Snapshot } from "./snapshot.js";

const NoParams = z.strictObject({});

/** `10000` as `10,000`. */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

const AgentSummary = z.strictObject({
  id: AgentId,
  name: z.string(),
  state: AgentState,
  last_seen_ms: Millis,
  edit_count: Count,
  lock_count: Count,
});

const AgentDetail = z.strictObject({
  id: AgentId,
  name: z.string(),
  state: AgentState,
  last_seen_ms: Millis,
  edit_count: Count,
  locks: z.array(z.strictObject({ path: z.string(), expires_at_ms: Millis })),
});

const Change = z.strictObject({
  path: z.string(),
  seq: Seq,
  agent_id: EditorId,
  op: EditOp,
  hash: HashOutput,
  size: Count,
  timestamp_ms: Millis,
});

const LockView = z.strictObject({ path: z.string(), agent_id: AgentId, expires_at_ms: Millis });

const argsProblem = "must be [], [null] or [params]: a builtin takes one argument, its params object (null for none)";

const pathCount = `must list 1 to ${MAX_PATHS_PER_ACQUIRE} paths`;
const Paths = z
  .array(WirePath, { error: pathCount })
  .check(z.minLength(1, { error: pathCount }), z.maxLength(MAX_PATHS_PER_ACQUIRE, { error: pathCount }));

const GrantedLock = z.strictObject({ path: z.string(), mode: LockMode, fence: Fence, expires_at_ms: Millis });

const Conflict = z.strictObject({
  path: z.string(),
  holder: AgentId,
  mode: LockMode,
  expires_at_ms: z.nullable(Millis),
  queued: z.boolean(),
});

/**
 * Where a config value in force came from: its flag; without one, the
 * --state directory that kept it; otherwise the default; or a snapshot
 * that `restore` put in place since the start.
 */
export const ConfigSource = z.enum(["flag", "state", "default", "restore"]);
export const ConfigSources = z.strictObject({ default_lock_ttl_ms: ConfigSource, agent_timeout_ms: ConfigSource });
export type ConfigSources = z.output<typeof ConfigSources>;

/** One method: its params (a by-name object; omitted params mean `{}`), its result, and what it does. */
export interface MethodSpec {
  description: string;
  params: z.ZodMiniType;
  result: z.ZodMiniType;
  /** Which table of the README it belongs to. */
  group: "upstream" | "registry" | "locking" | "session" | "host";
  /**
   * The call acts as the agent in `agent_id` (or, for agent_register without
   * one, as the agent it creates). On a socket server that agent belongs to
   * the connection; another connection acting as it while it is live gets
   * not_owner.
   */
  actsAsAgent?: true;
  /**
   * A Harn host's envelope (builtin_call, host/call): it carries a call of
   * another method, which is dispatched as if it had come bare.
   */
  envelope?: true;
  /**
   * Sent bare only, never inside an envelope: the envelopes themselves, and
   * what belongs to the connection rather than to a script (initialize,
   * shutdown). host/capabilities lists every other method.
   */
  bareOnly?: true;
}

/**
 * Every request method, declared once. Types, the server's validation, the
 * generated JSON Schemas and protocol/README.md all come from this table.
 */
export const methods = {
  agent_register: {
    actsAsAgent: true,
    group: "upstream",
    description:
      "Register an agent. With `agent_id` the record is created or replaced under that id (and ids after it are " +
      "assigned past it); otherwise the next id is assigned.",
    params: z.strictObject({
      name: z._default(z.string({ error: "must be a string" }), "agent"),
      agent_id: z.optional(AgentId),
    }),
    result: AgentId,
  },
  agent_heartbeat: {
    actsAsAgent: true,
    group: "upstream",
    description:
      "Refresh an agent's last_seen_ms; registers an unknown id as `agent-<id>` and revives a crashed agent.",
    params: z.strictObject({ agent_id: AgentId }),
    result: z.literal(true),
  },
  agent_unregister: {
    actsAsAgent: true,
    group: "upstream",
    description: "Drop an agent and free its locks. Unknown ids are a no-op.",
    params: z.strictObject({ agent_id: AgentId }),
    result: z.literal(true),
  },
  lock_try: {
    actsAsAgent: true,
    group: "upstream",
    description:
      "Take (or refresh, if you hold it) an exclusive lock on `path` without waiting. When refused, `holder` is the " +
      "agent whose lock blocks it (as lock_holder names it), or null when only an earlier queued request does.",
    params: z.strictObject({ agent_id: AgentId, path: WirePath, ttl_ms: z.optional(Duration) }),
    result: z.strictObject({ locked: z.boolean(), holder: z.nullable(AgentId) }),
  },
  lock_release: {
    actsAsAgent: true,
    group: "upstream",
    description: "Release a lock the agent holds. Releasing what you do not hold is a no-op.",
    params: z.strictObject({ agent_id: AgentId, path: WirePath }),
    result: z.literal(true),
  },
  status: {
    group: "upstream",
    description:
      "harn-hostlib's status shape: every agent with its lock count. This sidecar indexes no files, so file_count " +
      "and last_indexed_at_ms are 0 and git_head is null.",
    params: NoParams,
    result: z.strictObject({
      file_count: z.literal(0),
      current_seq: Count,
      last_indexed_at_ms: z.literal(0),
      git_head: z.null(),
      agents: z.array(AgentSummary),
    }),
  },
  version_record: {
    actsAsAgent: true,
    group: "upstream",
    description:
      "Append an edit to the version log and count it for the agent (a sign of life). Agent 0 means no agent. `hash` " +
      "is kept exact. With `fence`, the agent must hold a live exclusive lock with that fence on the path or a " +
      "covering directory, or the call fails with stale_fence and records nothing.",
    params: z.strictObject({
      agent_id: EditorId,
      path: WirePath,
      op: z._default(EditOp, DEFAULT_EDIT_OP),
      hash: z.optional(HashInput),
      size: z.optional(Count),
      fence: z.optional(Fence),
    }),
    result: Seq,
  },
  changes_since: {
    group: "upstream",
    description: "Changes with seq greater than `seq`, ascending; `limit` keeps the most recent ones.",
    params: z.strictObject({
      seq: z._default(Count, 0),
      limit: z.optional(
        z.int({ error: "must be a positive integer" }).check(z.minimum(1, { error: "must be a positive integer" })),
      ),
    }),
    result: z.array(Change),
  },
  current_seq: {
    group: "upstream",
    description: "The last assigned edit seq (0 before any edit).",
    params: NoParams,
    result: Count,
  },
  current_agent_id: {
    group: "upstream",
    description:
      "The agent bound to the caller's slot by current_agent_set, or null. A connection has one slot; under " +
      "host/call each `sessionId` of the connection has its own. Slots are connection state (never journaled, " +
      "never in a snapshot); a binding ends when its agent crashes or is unregistered, or when a restore leaves it " +
      "not active.",
    params: NoParams,
    result: z.nullable(AgentId),
  },
  lock_acquire: {
    actsAsAgent: true,
    group: "locking",
    description:
      "Take every path or none, exclusive or shared. Re-acquiring a path you hold refreshes it (same fence) and " +
      "changes its mode. With `wait_ms` > 0 a request that cannot be granted now waits in a FIFO queue (no " +
      "barging) and is granted when its conflicts go; after `wait_ms` it answers granted: false; $/cancelRequest " +
      "answers -32800; its agent crashing or being unregistered answers agent_gone. A request that would wait is " +
      "refused at once with deadlock (1010, the cycle in `data.cycle`) when waiting would close a cycle of waits; " +
      "nothing changes.",
    params: z.strictObject({
      agent_id: AgentId,
      paths: Paths,
      mode: z._default(LockMode, DEFAULT_LOCK_MODE),
      ttl_ms: z.optional(Duration),
      wait_ms: z._default(Count, 0),
    }),
    result: z.strictObject({ granted: z.boolean(), locks: z.array(GrantedLock), conflicts: z.array(Conflict) }),
  },
  lock_renew: {
    actsAsAgent: true,
    group: "locking",
    description:
      "Extend the agent's locks (all of them when `paths` is omitted) to expire no earlier than `ttl_ms` (default: " +
      "the lock TTL) from now. A renew never shortens a lock: one that already expires later keeps its expiry " +
      "(release it to free it sooner). An expired lock is not revived, it is reported missing.",
    params: z.strictObject({ agent_id: AgentId, paths: z.optional(Paths), ttl_ms: z.optional(Duration) }),
    result: z.strictObject({ renewed: z.array(GrantedLock), missing: z.array(z.string()) }),
  },
  lock_release_all: {
    actsAsAgent: true,
    group: "locking",
    description: "Release every lock the agent holds.",
    params: z.strictObject({ agent_id: AgentId }),
    result: z.strictObject({ released: z.array(z.string()) }),
  },
  lock_info: {
    group: "locking",
    description:
      "Who holds exactly `path` (in grant order) and how many queued requests want it, or null when nobody does.",
    params: z.strictObject({ path: WirePath }),
    result: z.nullable(
      z.strictObject({
        path: z.string(),
        mode: z.nullable(LockMode),
        holders: z.array(z.strictObject({ agent_id: AgentId, fence: Fence, expires_at_ms: Millis })),
        waiters: Count,
      }),
    ),
  },
  lock_check: {
    group: "locking",
    description:
      "The conflicts an acquire of `paths` would meet now (queued requests included), changing nothing. Without " +
      "`agent_id`, every lock counts.",
    params: z.strictObject({
      agent_id: z.optional(AgentId),
      paths: Paths,
      mode: z._default(LockMode, DEFAULT_LOCK_MODE),
    }),
    result: z.array(Conflict),
  },
  lock_force_release: {
    group: "locking",
    description:
      "An operator's override: release every lock exactly on `path`, whoever holds it; `reason` goes into the " +
      "lock/released events.",
    params: z.strictObject({ path: WirePath, reason: z.optional(z.string({ error: "must be a string" })) }),
    result: z.strictObject({ released: z.array(z.strictObject({ path: z.string(), agent_id: AgentId })) }),
  },
  events_subscribe: {
    group: "locking",
    description:
      "Send this connection every event from now on as a notification (also asked for by initialize {events: true}).",
    params: NoParams,
    result: z.strictObject({ latest_seq: Count }),
  },
  events_since: {
    group: "locking",
    description:
      `The events after \`seq\` that are still kept (the last ${thousands(EVENTS_KEPT)}), so a client ` +
      `that reconnects can catch up; \`oldest_seq\` tells whether some were dropped.`,
    params: z.strictObject({ seq: z._default(Count, 0) }),
    result: z.strictObject({ events: z.array(RegistryEvent), oldest_seq: Count, latest_seq: Count }),
  },
  lock_holder: {
    group: "registry",
    description:
      "The agent whose lock blocks `path`: one on it or a covering directory (an exclusive one, else the earliest " +
      "shared grant), else one below it; or null.",
    params: z.strictObject({ path: WirePath }),
    result: z.nullable(AgentId),
  },
  lock_list: {
    group: "registry",
    description:
      "Live locks sorted by path, optionally of one agent and/or under a directory `prefix` (whole segments: `src` " +
      "matches `src/a.rs`, not `srcx`).",
    params: z.strictObject({ agent_id: z.optional(AgentId), prefix: z.optional(WirePath) }),
    result: z.array(LockView),
  },
  agent_get: {
    group: "registry",
    description: "One agent with its locks, or null when unknown.",
    params: z.strictObject({ agent_id: AgentId }),
    result: z.nullable(AgentDetail),
  },
  agent_list: {
    group: "registry",
    description: "Every agent with its locks, sorted by id.",
    params: NoParams,
    result: z.array(AgentDetail),
  },
  reap: {
    group: "registry",
    description:
      "Evaluate time-driven state now and list the agents crashed since the previous reap (every request evaluates " +
      "time first, and so does the deadline timer, so crashes never wait for reap).",
    params: NoParams,
    result: z.strictObject({ crashed: z.array(AgentId) }),
  },
  snapshot: {
    group: "registry",
    description:
      "The whole state as a snapshot (format_version 2: locks with their fences, shared paths and the fence counter).",
    params: NoParams,
    result: Snapshot,
  },
  restore: {
    group: "registry",
    description:
      "Replace the whole state with a snapshot (ours, or harn-hostlib's snapshot.json). With `reap` (default) agents " +
      "silent too long are crashed at once; with `reap: false` the snapshot's active agents count as seen now. A " +
      "bad snapshot changes nothing.",
    params: z.strictObject({
      snapshot: recordOf(z.unknown(), "must be an object"),
      reap: z._default(z.boolean({ error: "must be true or false" }), true),
    }),
    result: z.strictObject({ agents: Count, locks: Count, current_seq: Count }),
  },
  metrics: {
    group: "session",
    description:
      "Counters since start, server-wide: requests per method, errors per code, request latency in the server (µs; a " +
      "waiting lock_acquire counts its wait), locks and waits by outcome, agents by state, journal writes and " +
      "fsyncs (null without --state), uptime.",
    params: NoParams,
    result: z.strictObject({
      uptime_ms: Count,
      requests: recordOf(Count),
      errors: recordOf(Count),
      latency_us: z.strictObject({ count: Count, p50: Count, p90: Count, p99: Count, max: Count }),
      locks: z.strictObject({
        held: Count,
        granted: Count,
        refused: Count,
        released: Count,
        expired: Count,
        force_released: Count,
        freed_by_crash: Count,
        freed_by_unregister: Count,
      }),
      waits: z.strictObject({
        waiting: Count,
        started: Count,
        granted: Count,
        timed_out: Count,
        cancelled: Count,
        ended_by_agent: Count,
        over_quota: Count,
      }),
      agents: z.strictObject({ active: Count, crashed: Count, gone: Count }),
      connections: Count,
      journal: z.nullable(
        z.strictObject({ generation: Count, lines: Count, writes: Count, fsyncs: Count, bytes: Count }),
      ),
      postgres: z.nullable(
        z.strictObject({
          seq: Count,
          applied: Count,
          round_trips: Count,
          appends: Count,
          ticks: Count,
          unavailable: Count,
          reconnects: Count,
          unknown_outcomes: Count,
          notifies: Count,
          reaped: Count,
        }),
      ),
    }),
  },
  clock_set: {
    group: "session",
    description: "Move the manual clock (`--clock=manual`) to `now_ms`; it never moves backwards.",
    params: z.strictObject({
      now_ms: z
        .int({ error: "must be a non-negative integer" })
        .check(z.minimum(0, { error: "must be a non-negative integer" })),
    }),
    result: z.int(),
  },
  initialize: {
    bareOnly: true,
    group: "session",
    description:
      "Optional handshake (required first on TCP, with `auth_token`): who the server is, the framing and clock in " +
      "use, the config with where each value came from (`config_sources`: its flag; without one, the --state " +
      "directory that kept it; otherwise the default; or a restored snapshot) and every method name. `events: " +
      "true` subscribes this connection to event notifications. It may be sent again.",
    params: z.strictObject({
      client_name: z.optional(z.string()),
      protocol_version: z.optional(z.string()),
      events: z.optional(z.boolean({ error: "must be true or false" })),
      auth_token: z.optional(z.string({ error: "must be a string" })),
    }),
    result: z.strictObject({
      server: z.strictObject({ name: z.string(), version: z.string() }),
      protocol_version: z.string(),
      framing: z.enum(["ndjson", "content-length"]),
      clock: z.enum(["system", "manual"]),
      config: RegistryConfig,
      config_sources: ConfigSources,
      methods: z.array(z.string()),
    }),
  },
  shutdown: {
    bareOnly: true,
    group: "session",
    description:
      "Prepare to exit: later requests are refused; send the `exit` notification next (exit code 0 after shutdown, 1 " +
      "without).",
    params: NoParams,
    result: z.null(),
  },
  current_agent_set: {
    group: "host",
    description:
      "Bind the caller's slot (see current_agent_id) to `agent_id`, or unbind it with null, as an embedder's " +
      "set_current_agent does; returns the previous binding. The agent need not be registered yet. Acts as no " +
      "agent.",
    params: z.strictObject({ agent_id: z.nullable(AgentId) }),
    result: z.nullable(AgentId),
  },
  builtin_call: {
    envelope: true,
    bareOnly: true,
    group: "host",
    description:
      "A Harn VM's host bridge call, forwarded as it came (only the id rewritten): `name` is " +
      "`hostlib_code_index_<method>` for a method host/capabilities lists, `args` is [], [null] or [params]. The " +
      "result is exactly the method's. An error keeps its code, reads as harn-hostlib's (`hostlib: <builtin>: " +
      "...`) and adds `kind` (invalid_parameter, missing_parameter, unimplemented, backend_error), `builtin` and " +
      "`param` to `data`. Ownership and metrics apply to the method carried.",
    params: z.strictObject({
      name: z.string({ error: "must be a string" }),
      args: z.array(z.nullable(ParamsObject), { error: argsProblem }).check(z.maxLength(1, { error: argsProblem })),
    }),
    result: z.unknown(),
  },
  "host/call": {
    envelope: true,
    bareOnly: true,
    group: "host",
    description:
      "An ACP host's host/call, made by a script's `host_call(\"code_index.<method>\", params)`, forwarded as it " +
      "came: `name` is `code_index.<method>`, `args` the params (null or absent: none). Answered as builtin_call " +
      "answers; `sessionId` picks the session's own current-agent slot (absent: the connection's).",
    params: z.strictObject({
      sessionId: z.optional(z.string({ error: "must be a string" })),
      name: z.string({ error: "must be a string" }),
      args: z.optional(z.nullable(ParamsObject)),
    }),
    result: z.unknown(),
  },
  "host/capabilities": {
    bareOnly: true,
    group: "host",
    description:
      "What a Harn host may forward: every method builtin_call and host/call carry, as `code_index.<method>` names it.",
    params: NoParams,
    result: z.strictObject({ code_index: z.array(z.string()) }),
  },
} as const satisfies Record<string, MethodSpec>;

/** Notifications the server sends to a connection that subscribed. */
export const serverNotifications = events;

/** Notifications the server accepts. */
export const notifications = {
  exit: { description: "Exit the process: code 0 after `shutdown`, 1 without (the LSP rule)." },
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** Params as a client sends them (defaults may be omitted). */
export type ParamsOf<M extends MethodName> = z.input<Methods[M]["params"]>;
/** Params after validation and defaults. */
export type ValidParamsOf<M extends MethodName> = z.output<Methods[M]["params"]>;
/** What the method returns. */
export type ResultOf<M extends MethodName> = z.output<Methods[M]["result"]>;

/** Every method name, in table order. */
export const methodNames = Object.keys(methods) as MethodName[];

export { BUILTIN_PREFIX, HOST_CALL_PREFIX } from "./host-names.js";

type Flagged<F extends string> = { [M in MethodName]: Methods[M] extends Record<F, true> ? M : never }[MethodName];
/** builtin_call and host/call. */
export type EnvelopeName = Flagged<"envelope">;
/** A method an envelope may carry: every one but the bare-only. */
export type HostCallable = Exclude<MethodName, Flagged<"bareOnly">>;

/** Every method an envelope may carry, in table order (what host/capabilities lists). */
export const hostCallableNames = methodNames.filter((name) => !("bareOnly" in methods[name])) as HostCallable[];
