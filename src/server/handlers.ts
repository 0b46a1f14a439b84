import type { CancellationToken } from "vscode-jsonrpc/node";
import pkg from "../../package.json" with { type: "json" };
import {
  type ConfigSources,
  type EnvelopeName,
  type MethodName,
  PROTOCOL_VERSION,
  type ResultOf,
  type ValidParamsOf,
  hostCallableNames,
  methodNames,
} from "../../protocol/methods.js";
import { after } from "../core/after.js";
import type { RegistryStore, ServedStore } from "../core/store.js";
import type { ServerClock } from "./clock.js";
import type { ConnectionAgents } from "./current-agent.js";
import type { Framing } from "../transport/framing.js";
import type { ConnectionWaits } from "./waits.js";

/**
 * What handlers may use besides their params: every change and read of the registry goes to `registry` (it may answer
 * later); `view` is what this process knows, read at once (events, config).
 */
export interface HandlerContext {
  registry: ServedStore;
  view: RegistryStore;
  clock: ServerClock;
  waits: ConnectionWaits;
  framing(): Framing;
  /** Send this connection every event from now on. */
  subscribeEvents(): void;
  shutdown(): void;
  metrics(): ResultOf<"metrics">;
  /** Where each config value in force came from. */
  configSources(): ConfigSources;
  /** This connection's current-agent slots. */
  agents: ConnectionAgents;
}

/** A method's handler; `session` is the host/call sessionId the call came under (undefined for any other call). */
export type Handler<M extends MethodName> = (
  params: ValidParamsOf<M>,
  token: CancellationToken,
  session: string | undefined,
) => ResultOf<M> | Promise<ResultOf<M>>;
/** Every method but the envelopes, which the dispatcher opens (see dispatch.ts). */
export type HandledMethod = Exclude<MethodName, EnvelopeName>;
export type HandlerTable = { [M in HandledMethod]: Handler<M> };

/**
 * The handlers that read what this process knows (the view, the current-agent slots, metrics) instead of asking the
 * store: with a store that answers later, each runs only once every earlier request of its connection is answered
 * (see ReplyOrder).
 */
export const LOCAL_METHODS = [
  "current_agent_id",
  "current_agent_set",
  "events_subscribe",
  "events_since",
  "metrics",
  "initialize",
] as const satisfies readonly HandledMethod[];

const yes = () => true as const;
const status = (current_seq: number, agents: ResultOf<"status">["agents"]): ResultOf<"status"> => ({
  file_count: 0,
  current_seq,
  last_indexed_at_ms: 0,
  git_head: null,
  agents,
});
const released = <T>(list: T[]) => ({ released: list });

/** Method name → core call. Params arrive validated by the method's zod schema. */
export function createHandlers({
  registry: reg,
  view,
  clock,
  waits,
  framing,
  subscribeEvents,
  shutdown,
  metrics,
  configSources,
  agents,
}: HandlerContext): HandlerTable {
  const restored = <T>(summary: T) => {
    agents.afterRestore();
    return summary;
  };
  return {
    agent_register: (p) => (p.agent_id === undefined ? reg.register(p.name) : reg.registerWithId(p.agent_id, p.name)),
    agent_heartbeat: (p) => after(reg.heartbeat(p.agent_id), yes),
    agent_unregister: (p) => after(reg.unregister(p.agent_id), yes),
    lock_try: (p) => reg.tryLock(p.agent_id, p.path, p.ttl_ms),
    lock_release: (p) => after(reg.releaseLock(p.agent_id, p.path), yes),
    status: () => {
      // Both asked at once, so that they answer from the same state.
      const seq = reg.currentSeq();
      const listed = reg.listAgents();
      if (!(seq instanceof Promise) && !(listed instanceof Promise)) return status(seq, listed);
      return Promise.all([seq, listed]).then(([current_seq, list]) => status(current_seq, list));
    },
    version_record: (p) =>
      reg.recordVersion({ path: p.path, agentId: p.agent_id, op: p.op, hash: p.hash, size: p.size, fence: p.fence }),
    changes_since: (p) => reg.changesSince(p.seq, p.limit),
    current_seq: () => reg.currentSeq(),
    current_agent_id: (_p, _token, session) => agents.current(session),
    lock_acquire: (p, token) =>
      waits.acquire({ agentId: p.agent_id, paths: p.paths, mode: p.mode, ttlMs: p.ttl_ms, waitMs: p.wait_ms }, token),
    lock_renew: (p) => reg.renew(p.agent_id, p.paths, p.ttl_ms),
    lock_release_all: (p) => after(reg.releaseAll(p.agent_id), released),
    lock_info: (p) => reg.lockInfo(p.path),
    lock_check: (p) => reg.lockCheck(p.agent_id, p.paths, p.mode),
    lock_force_release: (p) => after(reg.forceRelease(p.path, p.reason), released),
    events_subscribe: () => {
      subscribeEvents();
      return { latest_seq: view.events.latestSeq };
    },
    events_since: (p) => ({
      events: view.events.since(p.seq),
      oldest_seq: view.events.oldestSeq,
      latest_seq: view.events.latestSeq,
    }),
    lock_holder: (p) => reg.lockHolder(p.path),
    lock_list: (p) => reg.listLocks({ agentId: p.agent_id, prefix: p.prefix }),
    agent_get: (p) => reg.getAgent(p.agent_id),
    agent_list: () => reg.agentDetails(),
    reap: () => after(reg.reap(), (crashed) => ({ crashed })),
    snapshot: () => reg.snapshot(),
    restore: (p) => after(reg.restore(p.snapshot, { reap: p.reap }), restored),
    metrics: () => metrics(),
    clock_set: (p) => {
      clock.set(p.now_ms);
      return after(reg.tick(), () => p.now_ms);
    },
    initialize: (p) => {
      if (p.events === true) subscribeEvents();
      return {
        server: { name: pkg.name, version: pkg.version },
        protocol_version: PROTOCOL_VERSION,
        framing: framing(),
        clock: clock.kind,
        config: view.config(),
        config_sources: configSources(),
        methods: [...methodNames],
      };
    },
    shutdown: () => {
      shutdown();
      return null;
    },
    current_agent_set: (p, _token, session) => agents.bind(session, p.agent_id),
    "host/capabilities": () => ({ code_index: [...hostCallableNames] }),
  };
}
