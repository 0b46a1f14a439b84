import type { CancellationToken } from "vscode-jsonrpc/node";
import { DomainError } from "../core/errors.js";
import type { AcquireInput, AcquireResult, MaybePromise, ServedStore, WaitOutcome } from "../core/store.js";
import { requestCancelled } from "./rpc-errors.js";

/** A cancel the store could not make (it could not be reached) is tried again after this long. */
const CANCEL_RETRY_MS = 100;

/**
 * The waits of one connection: each waiting lock_acquire becomes a promise
 * that ends with the wait. Cancellation ($/cancelRequest) answers -32800;
 * the agent going away answers the agent_gone domain error. With a store
 * that answers later, a cancellation that arrives before the acquire is
 * answered cancels its wait as soon as it starts, and so does the end of
 * the connection ({@link cancelAll}).
 */
export class ConnectionWaits {
  private readonly pending = new Set<number>();
  /** The waits whose cancel was sent and not refused. */
  private readonly cancelling = new Set<number>();
  private closing = false;

  /** `started`: an acquire of this connection now waits (its agent and its request's token). */
  constructor(
    private readonly store: ServedStore,
    private readonly started?: (agentId: number, token: CancellationToken) => void,
  ) {}

  /** Run an acquire; when it has to wait, the answer comes when the wait ends. */
  acquire(input: AcquireInput, token: CancellationToken): MaybePromise<AcquireResult> {
    let finish: (outcome: WaitOutcome<AcquireResult>) => void = () => {};
    const ended = new Promise<WaitOutcome<AcquireResult>>((resolve) => (finish = resolve));
    const result = this.store.acquire(input, (outcome) => finish(outcome));
    if (result instanceof Promise) return result.then((answer) => this.answer(answer, input, token, ended));
    return this.answer(result, input, token, ended);
  }

  /** End every wait of this connection, now and (it is going away) any that starts later. */
  cancelAll(): void {
    this.closing = true;
    for (const id of this.pending) this.cancel(id);
  }

  /** The acquire's answer, or (it waits) the promise of the wait's end. */
  private answer(
    result: AcquireResult | { waiting: number },
    input: AcquireInput,
    token: CancellationToken,
    ended: Promise<WaitOutcome<AcquireResult>>,
  ): MaybePromise<AcquireResult> {
    if (!("waiting" in result)) return result;
    const id = result.waiting;
    this.pending.add(id);
    this.started?.(input.agentId, token);
    const cancellation = token.onCancellationRequested(() => this.cancel(id));
    if (this.closing || token.isCancellationRequested) this.cancel(id);
    return ended.then((outcome) => {
      this.pending.delete(id);
      this.cancelling.delete(id);
      cancellation.dispose();
      switch (outcome.kind) {
        case "granted":
        case "timed_out":
          return outcome.result;
        case "cancelled":
          throw requestCancelled("lock_acquire");
        case "agent_gone":
          throw new DomainError("agent_gone", goneMessage(input.agentId, outcome.why));
        case "quota_exceeded":
          throw new DomainError("quota_exceeded", `${outcome.why}; the wait ended without a grant`);
        case "id_space_exhausted":
          throw new DomainError("id_space_exhausted", `${outcome.why}; the wait ended without a grant`);
      }
    });
  }

  /** Cancel one wait, once (unless the store could not be reached: then again later). */
  private cancel(id: number): void {
    if (this.cancelling.has(id)) return;
    this.cancelling.add(id);
    const sent = this.store.cancelWait(id);
    if (sent instanceof Promise) {
      sent.catch(() => setTimeout(() => this.cancelling.delete(id), CANCEL_RETRY_MS).unref());
    }
  }
}

/** Why a wait ended without its agent: the agent went, or a restore replaced the whole state. */
function goneMessage(agentId: number, why: "crashed" | "unregistered" | "replaced" | "restored"): string {
  if (why === "restored") return `the wait of agent ${agentId} was ended by a restore, which replaced the whole state`;
  return `agent ${agentId} was ${why === "replaced" ? "re-registered (its record replaced)" : why} while waiting`;
}
