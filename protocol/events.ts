import * as z from "zod/mini";
import { AgentId, Count, Fence, LockMode, Millis, NextCounter, Seq } from "./common.js";
import { RELEASE_REASONS } from "./constants.js";

/** Why a lock stopped being held. */
export const ReleaseReason = z.enum(RELEASE_REASONS);
export type ReleaseReason = z.infer<typeof ReleaseReason>;

const stamp = { event_seq: Seq, at_ms: Millis };

/** One wait of a deadlock cycle: `agent_id` waits for `waits_for` because of its request for `path`. */
export const DeadlockEdge = z.strictObject({ agent_id: AgentId, path: z.string(), waits_for: AgentId });
export type DeadlockEdge = z.infer<typeof DeadlockEdge>;

/** Every event, as a notification's params and in `events_since`; `event_seq` strictly increases. */
export const events = {
  "lock/granted": {
    description: "A lock was granted (or changed mode); `fence` is its fencing token.",
    params: z.strictObject({
      type: z.literal("lock/granted"),
      agent_id: AgentId,
      path: z.string(),
      mode: LockMode,
      fence: Fence,
      expires_at_ms: Millis,
      ...stamp,
    }),
  },
  "lock/released": {
    description:
      "A lock stopped being held, and why: released, expired, crashed, unregistered, forced (with the operator's " +
      "`note`) or replaced (its agent re-registered).",
    params: z.strictObject({
      type: z.literal("lock/released"),
      agent_id: AgentId,
      path: z.string(),
      mode: LockMode,
      fence: Fence,
      reason: ReleaseReason,
      note: z.optional(z.string()),
      ...stamp,
    }),
  },
  "lock/deadlock": {
    description:
      "A lock_acquire that would have waited was refused with `deadlock` (1010): waiting would have closed a cycle " +
      "of waits. `agent_id`, `paths` and `mode` are the refused request; `cycle` lists the waits from the " +
      "requester round to it, each `{agent_id, path, waits_for}`: `agent_id` waits for `waits_for` because of its " +
      "request for `path`. Nothing changed.",
    params: z.strictObject({
      type: z.literal("lock/deadlock"),
      agent_id: AgentId,
      paths: z.array(z.string()),
      mode: LockMode,
      cycle: z.array(DeadlockEdge),
      ...stamp,
    }),
  },
  "agent/registered": {
    description: "An agent was registered (explicitly or by first use).",
    params: z.strictObject({ type: z.literal("agent/registered"), agent_id: AgentId, name: z.string(), ...stamp }),
  },
  "agent/crashed": {
    description: "An agent was silent past agent_timeout_ms; `released` lists the paths it lost.",
    params: z.strictObject({
      type: z.literal("agent/crashed"),
      agent_id: AgentId,
      released: z.array(z.string()),
      ...stamp,
    }),
  },
  "agent/unregistered": {
    description: "An agent was unregistered; `released` lists the paths it held.",
    params: z.strictObject({
      type: z.literal("agent/unregistered"),
      agent_id: AgentId,
      released: z.array(z.string()),
      ...stamp,
    }),
  },
  "registry/restored": {
    description:
      "The whole state was replaced by `restore`: every earlier lock, agent and wait is gone. `agents`, `locks`, " +
      "`current_seq`, `next_id` and `next_fence` describe the restored state (before the reap that follows, whose " +
      "crashes come as later events). A subscriber keeping a copy drops it and re-reads (`lock_list`, `agent_list` " +
      "or `snapshot`): the reply reflects every event sent before it on the connection, and the events after it " +
      "apply on top.",
    params: z.strictObject({
      type: z.literal("registry/restored"),
      agents: Count,
      locks: Count,
      current_seq: Count,
      next_id: NextCounter,
      next_fence: NextCounter,
      ...stamp,
    }),
  },
  "events/dropped": {
    description:
      "Not an event (no `event_seq`, never in `events_since`): this connection stopped taking what it was sent while " +
      "--max-queued-bytes were queued for it, so its subscription was dropped. `latest_seq` is the last event it " +
      "was sent; none after it will come. To catch up, send `events_subscribe` again (every event after its " +
      "reply's `latest_seq` comes as a notification) and `events_since {seq: latest_seq}` for the ones in between, " +
      "while they are kept.",
    params: z.strictObject({ latest_seq: Count }),
  },
} as const;

export const RegistryEvent = z.union([
  events["lock/granted"].params,
  events["lock/released"].params,
  events["lock/deadlock"].params,
  events["agent/registered"].params,
  events["agent/crashed"].params,
  events["agent/unregistered"].params,
  events["registry/restored"].params,
]);
export type RegistryEvent = z.infer<typeof RegistryEvent>;

/** An event before it is numbered and stamped. */
export type RegistryEventBody = RegistryEvent extends infer E
  ? E extends RegistryEvent
    ? Omit<E, "event_seq" | "at_ms">
    : never
  : never;

/** Name of an event (the notification's method). */
export type EventName = keyof typeof events;
/** The params of event `E`. */
export type EventOf<E extends EventName> = z.output<(typeof events)[E]["params"]>;
