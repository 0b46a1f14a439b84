import type { CancellationToken } from "vscode-jsonrpc/node";
import pkg from "../../package.json" with { type: "json" };
import { PROTOCOL_VERSION } from "../../protocol/constants.js";
import { hostCallableNames, methodNames } from "../../protocol/method-index.js";
import type { ConfigSources, EnvelopeName, MethodName, ResultOf, ValidParamsOf } from "../../protocol/methods.js";
import type { RegistryStore } from "../core/store.js";
import type { ServerClock } from "./clock.js";
import type { ConnectionAgents } from "./current-agent.js";
import type { Framing } from "../transport/framing.js";
import type { ConnectionWaits } from "./waits.js";

/** What handlers may use besides their params. */
export interface HandlerContext {
  registry: RegistryStore;
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

/** Method name → core call. Params arrive validated by the method's zod schema. */
export function createHandlers({
  registry: reg,
  clock,
  waits,
  framing,
  subscribeEvents,
  shutdown,
  metrics,
  configSources,
  agents,
}: HandlerContext): HandlerTable {
  return {
    agent_register: (p) => (p.agent_id === undefined ? reg.register(p.name) : reg.registerWithId(p.agent_id, p.name)),
    agent_heartbeat: (p) => {
      reg.heartbeat(p.agent_id);
      return true;
    },
    agent_unregister: (p) => {
      reg.unregister(p.agent_id);
      return true;
    },
    lock_try: (p) => reg.tryLock(p.agent_id, p.path, p.ttl_ms),
    lock_release: (p) => {
      reg.releaseLock(p.agent_id, p.path);
      return true;
    },
    status: () => ({
      file_count: 0,
      current_seq: reg.currentSeq(),
      last_indexed_at_ms: 0,
      git_head: null,
      agents: reg.listAgents(),
    }),
    version_record: (p) =>
      reg.recordVersion({ path: p.path, agentId: p.agent_id, op: p.op, hash: p.hash, size: p.size, fence: p.fence }),
    changes_since: (p) => reg.changesSince(p.seq, p.limit),
    current_seq: () => reg.currentSeq(),
    current_agent_id: (_p, _token, session) => agents.current(session),
    lock_acquire: (p, token) =>
      waits.acquire({ agentId: p.agent_id, paths: p.paths, mode: p.mode, ttlMs: p.ttl_ms, waitMs: p.wait_ms }, token),
    lock_renew: (p) => reg.renew(p.agent_id, p.paths, p.ttl_ms),
    lock_release_all: (p) => ({ released: reg.releaseAll(p.agent_id) }),
    lock_info: (p) => reg.lockInfo(p.path),
    lock_check: (p) => reg.lockCheck(p.agent_id, p.paths, p.mode),
    lock_force_release: (p) => ({ released: reg.forceRelease(p.path, p.reason) }),
    events_subscribe: () => {
      subscribeEvents();
      return { latest_seq: reg.events.latestSeq };
    },
    events_since: (p) => ({
      events: reg.events.since(p.seq),
      oldest_seq: reg.events.oldestSeq,
      latest_seq: reg.events.latestSeq,
    }),
    lock_holder: (p) => reg.lockHolder(p.path),
    lock_list: (p) => reg.listLocks({ agentId: p.agent_id, prefix: p.prefix }),
    agent_get: (p) => reg.getAgent(p.agent_id),
    agent_list: () => reg.agentDetails(),
    reap: () => ({ crashed: reg.reap() }),
    snapshot: () => reg.snapshot(),
    restore: (p) => {
      const restored = reg.restore(p.snapshot, { reap: p.reap });
      agents.afterRestore();
      return restored;
    },
    metrics: () => metrics(),
    clock_set: (p) => {
      clock.set(p.now_ms);
      reg.tick();
      return p.now_ms;
    },
    initialize: (p) => {
      if (p.events === true) subscribeEvents();
      return {
        server: { name: pkg.name, version: pkg.version },
        protocol_version: PROTOCOL_VERSION,
        framing: framing(),
        clock: clock.kind,
        config: reg.config(),
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
