// The one interpreter of the property tests' generated steps: the
// model-based test (test/core/model.test.ts), the history checker
// (test/core/history.test.ts) and the journal replay test
// (test/storage/replay.test.ts) each generate steps with their own
// distributions and check their own properties, and all of them turn a step
// into calls on a registry (or a journaled store, or a store whose calls
// answer with promises: PostgreSQL state) here. The interpreter keeps track
// of the waits it started, so that a cancel step can name one.
import type { Snapshot, SnapshotAgent } from "../../protocol/snapshot.js";
import { after } from "../../src/core/after.js";
import type {
  AcquireResult,
  Conflict,
  EditOpName,
  LockMode,
  MaybePromise,
  RegistryStore,
  RenewResult,
  RestoreSummary,
  ServedStore,
  TryLockResult,
  WaitOutcome,
} from "../../src/core/store.js";
import type { Change } from "../../src/core/version-log.js";
import type { StoreApi } from "../../src/storage/store-ops.js";

/** A snapshot format `restore` accepts: ours (2), format 1, or harn-hostlib's. */
export type RestoreFormat = "2" | "1" | "hostlib";

/** One generated step. */
export type Step =
  | { kind: "advance"; ms: number }
  | { kind: "register"; name: string }
  | { kind: "registerWithId"; id: number; name: string }
  | { kind: "heartbeat"; agent: number }
  | { kind: "unregister"; agent: number }
  | { kind: "noteEdit"; agent: number }
  | { kind: "releaseAll"; agent: number }
  | { kind: "tryLock"; agent: number; path: string; ttl?: number }
  | { kind: "acquire"; agent: number; paths: string[]; mode: LockMode; ttl?: number; wait: number }
  | { kind: "cancel"; nth: number }
  | { kind: "release"; agent: number; path: string }
  | { kind: "force"; path: string; note?: string }
  | { kind: "renew"; agent: number; paths?: string[]; ttl?: number }
  | { kind: "holder"; path: string }
  | { kind: "check"; agent?: number; paths: string[]; mode: LockMode }
  | {
      kind: "record";
      agent: number;
      path: string;
      op?: EditOpName;
      hash?: string | number | bigint;
      size?: number;
      fence?: number;
    }
  | { kind: "changesSince"; seq: number; limit?: number }
  | { kind: "crash"; agents: number[] }
  | { kind: "setTimeout"; ms: number }
  | { kind: "tick" }
  | { kind: "reap" }
  | { kind: "restore"; format: RestoreFormat; reap: boolean };

/** What each step returns: the result of the call it makes. */
interface Results {
  advance: undefined;
  register: number;
  registerWithId: number;
  heartbeat: undefined;
  unregister: boolean;
  noteEdit: undefined;
  releaseAll: string[];
  tryLock: TryLockResult;
  acquire: AcquireResult | { waiting: number };
  cancel: boolean;
  release: boolean;
  force: { path: string; agent_id: number }[];
  renew: RenewResult;
  holder: number | null;
  check: Conflict[];
  record: number;
  changesSince: Change[];
  crash: number[];
  setTimeout: unknown;
  tick: undefined;
  reap: number[];
  restore: RestoreSummary;
}

export type StepOf<K extends Step["kind"]> = Extract<Step, { kind: K }>;

export interface StepOptions {
  /** Move the clock on by `ms` (an advance step); a promise when the move is a call of the store. */
  advance(ms: number): unknown;
  /** A wait the interpreter started has ended. */
  onOutcome?(waitId: number, outcome: WaitOutcome<AcquireResult>): void;
}

/** A wait id that is never handed out. */
const NO_WAIT = 0;

/** What a step on `Target` answers: the result itself on a store that answers at once, else maybe a promise of it. */
export type StepAnswer<Target, R> = Target extends RegistryStore ? R : MaybePromise<R>;

/** Runs steps on a registry, a journaled store, or a store that answers with promises. */
export class StepRunner<Target extends ServedStore = StoreApi> {
  /** Every wait started, in order. */
  readonly started: number[] = [];
  /** The waits started that have not ended, in the order they started. */
  readonly pending = new Set<number>();

  constructor(
    readonly target: Target,
    private readonly options: StepOptions,
  ) {}

  /**
   * The wait a `cancel` step names: the nth still waiting, else one started before (which may have ended), else an id
   * never used.
   */
  cancelTarget(nth: number): number {
    const pending = [...this.pending];
    if (nth < pending.length) return pending[nth] as number;
    if (this.started.length > 0) return this.started[nth % this.started.length] as number;
    return NO_WAIT;
  }

  /** Make the call `step` stands for; throws (or rejects with) what the call throws. */
  run<K extends Step["kind"]>(step: StepOf<K>): StepAnswer<Target, Results[K]> {
    return this.call(step as Step) as StepAnswer<Target, Results[K]>;
  }

  private call(step: Step): unknown {
    const target = this.target;
    switch (step.kind) {
      case "advance": {
        const moved = this.options.advance(step.ms);
        return moved instanceof Promise ? moved.then(() => undefined) : undefined;
      }
      case "register":
        return target.register(step.name);
      case "registerWithId":
        return target.registerWithId(step.id, step.name);
      case "heartbeat":
        return target.heartbeat(step.agent);
      case "unregister":
        return target.unregister(step.agent);
      case "noteEdit":
        return target.noteEdit(step.agent);
      case "releaseAll":
        return target.releaseAll(step.agent);
      case "tryLock":
        return target.tryLock(...trimmed(step.agent, step.path, step.ttl));
      case "acquire":
        return this.acquire(step);
      case "cancel":
        return target.cancelWait(this.cancelTarget(step.nth));
      case "release":
        return target.releaseLock(step.agent, step.path);
      case "force":
        return target.forceRelease(...trimmed(step.path, step.note));
      case "renew":
        return target.renew(...trimmed(step.agent, step.paths, step.ttl));
      case "holder":
        return target.lockHolder(step.path);
      case "check":
        return target.lockCheck(step.agent, step.paths, step.mode);
      case "record":
        return target.recordVersion({
          agentId: step.agent,
          path: step.path,
          op: step.op,
          hash: step.hash,
          size: step.size,
          fence: step.fence,
        });
      case "changesSince":
        return target.changesSince(...trimmed(step.seq, step.limit));
      case "crash":
        return target.crashAgents(step.agents);
      case "setTimeout":
        return target.setConfig({ agent_timeout_ms: step.ms });
      case "tick":
        return target.tick();
      case "reap":
        return target.reap();
      case "restore":
        return after(target.snapshot(), (snapshot) =>
          target.restore(asRestoreInput(snapshot, step.format), { reap: step.reap }),
        );
    }
  }

  private acquire(step: StepOf<"acquire">): MaybePromise<AcquireResult | { waiting: number }> {
    let waitId = NO_WAIT;
    const done = (outcome: WaitOutcome<AcquireResult>) => {
      this.pending.delete(waitId);
      this.options.onOutcome?.(waitId, outcome);
    };
    const answer = this.target.acquire(
      { agentId: step.agent, paths: step.paths, mode: step.mode, ttlMs: step.ttl, waitMs: step.wait },
      done,
    );
    return after(answer, (result) => {
      if ("waiting" in result) {
        waitId = result.waiting;
        this.started.push(waitId);
        this.pending.add(waitId);
      }
      return result;
    });
  }
}

/**
 * The arguments without their trailing undefined ones: the call as a caller that leaves them out makes it (and a
 * journal writes it).
 */
function trimmed<A extends unknown[]>(...args: A): A {
  let length = args.length;
  while (length > 0 && args[length - 1] === undefined) length--;
  return args.slice(0, length) as A;
}

/**
 * A snapshot as another writer would send it: ours or format 1 or
 * harn-hostlib's (no fences), hashes as bigints, a big number in an
 * ignored section. Paths stay own keys, `__proto__` included.
 */
export function asRestoreInput(snapshot: Snapshot, format: RestoreFormat): unknown {
  const history: Record<string, unknown[]> = Object.create(null);
  for (const [path, entries] of Object.entries(snapshot.versions.history)) {
    history[path] = entries.map((entry) => ({ ...entry, hash: BigInt(entry.hash) }));
  }
  const versions = { current_seq: snapshot.versions.current_seq, history };
  if (format === "2") return { ...snapshot, versions };
  const agents = { next_id: snapshot.agents.next_id, agents: snapshot.agents.agents.map(withoutFences) };
  if (format === "1") {
    return { format_version: 1, taken_at_ms: snapshot.taken_at_ms, config: snapshot.config, agents, versions };
  }
  return { files: { size: 2n ** 70n }, agents, versions };
}

/** An agent entry as format 1 has it: no fences, no modes. */
function withoutFences(agent: SnapshotAgent): Omit<SnapshotAgent, "lock_fences" | "shared_paths"> {
  const { lock_fences: _fences, shared_paths: _shared, ...entry } = agent;
  return entry;
}
