import type { Registry } from "../core/registry.js";
import type { RegistryStore } from "../core/store.js";
import type { JournaledOp } from "./entries.js";
import type { Journal } from "./journal.js";
import { encodeLine } from "./journal-line.js";
import type { PinnedClock } from "./pinned-clock.js";

/**
 * The registry with every state change journaled before it is made. A
 * change is written as the call that made it and the time it ran at (the
 * clock is pinned to that time during the call); a read that finds a
 * deadline due first journals a `tick`, so time-driven changes are replayed
 * at the time they happened. Replies wait for the journal (see Durability).
 */
export class JournaledStore implements RegistryStore {
  constructor(
    readonly registry: Registry,
    private readonly journal: Journal,
    private readonly clock: PinnedClock,
  ) {}

  get events(): Registry["events"] {
    return this.registry.events;
  }

  now = (): number => this.registry.now();
  config = () => this.registry.config();
  nextDeadline = () => this.registry.nextDeadline();

  configure: Registry["configure"] = (options) => this.change("configure", [options], () => this.registry.configure(options));
  setConfig: Registry["setConfig"] = (config) => this.change("setConfig", [config], () => this.registry.setConfig(config));
  register: Registry["register"] = (name) => this.change("register", [name], () => this.registry.register(name));
  registerWithId: Registry["registerWithId"] = (id, name) => this.change("registerWithId", [id, name], () => this.registry.registerWithId(id, name));
  heartbeat: Registry["heartbeat"] = (id) => this.change("heartbeat", [id], () => this.registry.heartbeat(id));
  unregister: Registry["unregister"] = (id) => this.change("unregister", [id], () => this.registry.unregister(id));
  noteEdit: Registry["noteEdit"] = (id) => this.change("noteEdit", [id], () => this.registry.noteEdit(id));
  tryLock: Registry["tryLock"] = (agentId, path, ttlMs) => this.change("tryLock", [agentId, path, ttlMs], () => this.registry.tryLock(agentId, path, ttlMs));
  acquire: Registry["acquire"] = (input, onWaitDone) =>
    this.change("acquire", [input, onWaitDone !== undefined], () => this.registry.acquire(input, onWaitDone));
  cancelWait: Registry["cancelWait"] = (id) => this.change("cancelWait", [id], () => this.registry.cancelWait(id));
  releaseLock: Registry["releaseLock"] = (agentId, path) => this.change("releaseLock", [agentId, path], () => this.registry.releaseLock(agentId, path));
  releaseAll: Registry["releaseAll"] = (agentId) => this.change("releaseAll", [agentId], () => this.registry.releaseAll(agentId));
  forceRelease: Registry["forceRelease"] = (path, note) => this.change("forceRelease", [path, note], () => this.registry.forceRelease(path, note));
  renew: Registry["renew"] = (agentId, paths, ttlMs) => this.change("renew", [agentId, paths, ttlMs], () => this.registry.renew(agentId, paths, ttlMs));
  recordVersion: Registry["recordVersion"] = (input) => this.change("recordVersion", [input], () => this.registry.recordVersion(input));
  restore: Registry["restore"] = (snapshot, options) => this.change("restore", [snapshot, options], () => this.registry.restore(snapshot, options));
  tick: Registry["tick"] = () => this.change("tick", [], () => this.registry.tick());
  crashAgents: Registry["crashAgents"] = (ids) => this.change("crashAgents", [ids], () => this.registry.crashAgents(ids));

  lockHolder: Registry["lockHolder"] = (path) => this.read(() => this.registry.lockHolder(path));
  lockInfo: Registry["lockInfo"] = (path) => this.read(() => this.registry.lockInfo(path));
  lockCheck: Registry["lockCheck"] = (agentId, paths, mode) => this.read(() => this.registry.lockCheck(agentId, paths, mode));
  listLocks: Registry["listLocks"] = (filter) => this.read(() => this.registry.listLocks(filter));
  agentState: Registry["agentState"] = (id) => this.read(() => this.registry.agentState(id));
  getAgent: Registry["getAgent"] = (id) => this.read(() => this.registry.getAgent(id));
  agentDetails: Registry["agentDetails"] = () => this.read(() => this.registry.agentDetails());
  listAgents: Registry["listAgents"] = () => this.read(() => this.registry.listAgents());
  reap: Registry["reap"] = () => this.read(() => this.registry.reap());
  changesSince: Registry["changesSince"] = (seq, limit) => this.read(() => this.registry.changesSince(seq, limit));
  currentSeq: Registry["currentSeq"] = () => this.read(() => this.registry.currentSeq());
  snapshot: Registry["snapshot"] = () => this.read(() => this.registry.snapshot());
  stats: Registry["stats"] = () => this.read(() => this.registry.stats());

  /** Journal the call, then make it at the time written. */
  private change<T>(op: JournaledOp, args: unknown[], call: () => T): T {
    return this.pinned((t) => {
      this.journal.append(encodeLine(JSON.stringify({ t, op, a: args })));
      return call();
    });
  }

  /** A read: journal a tick first when a deadline is due, since the read would apply it. */
  private read<T>(call: () => T): T {
    return this.pinned((t) => {
      const due = this.registry.nextDeadline();
      if (due !== undefined && due <= t) this.change("tick", [], () => this.registry.tick());
      return call();
    });
  }

  /** Run `call` with the clock pinned to one time (the outer call's, when nested). */
  private pinned<T>(call: (t: number) => T): T {
    const t = this.registry.now();
    if (this.clock.isPinned) return call(t);
    this.clock.pin(t);
    try {
      return call(t);
    } finally {
      this.clock.unpin();
    }
  }
}
