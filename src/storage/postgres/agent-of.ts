import type { JournaledOp } from "../store-ops.js";

/**
 * The agent a change acts as, read from its arguments: the sidecar that
 * makes the change claims that agent (it belongs to the sidecar, and is
 * crashed when the sidecar goes). `register` acts as the agent it creates,
 * known only once applied ("new"). Checked by the compiler: every change is
 * listed, `undefined` for those that act as no agent.
 */
export const AGENT_OF: { readonly [Op in JournaledOp]: ((args: readonly unknown[]) => number | "new") | undefined } = {
  setProcessOptions: undefined,
  setConfig: undefined,
  register: () => "new",
  registerWithId: (args) => args[0] as number,
  heartbeat: (args) => args[0] as number,
  unregister: undefined,
  noteEdit: (args) => args[0] as number,
  tryLock: (args) => args[0] as number,
  acquire: (args) => (args[0] as { agentId: number }).agentId,
  cancelWait: undefined,
  releaseLock: (args) => args[0] as number,
  releaseAll: (args) => args[0] as number,
  forceRelease: undefined,
  renew: (args) => args[0] as number,
  recordVersion: (args) => (args[0] as { agentId: number }).agentId,
  restore: undefined,
  tick: undefined,
  crashAgents: undefined,
  reap: undefined,
};
