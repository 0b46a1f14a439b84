import type { CancellationToken } from "vscode-jsonrpc/node";
import { DomainError } from "../core/errors.js";
import type { AcquireResult, RegistryStore, WaitOutcome } from "../core/store.js";
import { requestCancelled } from "./rpc-errors.js";

/**
 * The waits of one connection: each waiting lock_acquire becomes a promise
 * that ends with the wait. Cancellation ($/cancelRequest) answers -32800;
 * the agent going away answers the agent_gone domain error.
 */
export class ConnectionWaits {
  private readonly pending = new Set<number>();

  constructor(private readonly registry: RegistryStore) {}

  /** Run an acquire; when it has to wait, the answer comes when the wait ends. */
  acquire(
    input: Parameters<RegistryStore["acquire"]>[0],
    token: CancellationToken,
  ): AcquireResult | Promise<AcquireResult> {
    let finish: (outcome: WaitOutcome<AcquireResult>) => void = () => {};
    const ended = new Promise<WaitOutcome<AcquireResult>>((resolve) => (finish = resolve));
    const result = this.registry.acquire(input, (outcome) => finish(outcome));
    if (!("waiting" in result)) return result;
    const id = result.waiting;
    this.pending.add(id);
    const cancellation = token.onCancellationRequested(() => this.registry.cancelWait(id));
    return ended.then((outcome) => {
      this.pending.delete(id);
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

  /** End every wait of this connection (it is going away). */
  cancelAll(): void {
    for (const id of [...this.pending]) this.registry.cancelWait(id);
  }
}

/** Why a wait ended without its agent: the agent went, or a restore replaced the whole state. */
function goneMessage(agentId: number, why: "crashed" | "unregistered" | "replaced" | "restored"): string {
  if (why === "restored") return `the wait of agent ${agentId} was ended by a restore, which replaced the whole state`;
  return `agent ${agentId} was ${why === "replaced" ? "re-registered (its record replaced)" : why} while waiting`;
}
