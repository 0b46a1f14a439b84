/**
 * Every error code the sidecar answers with. JSON-RPC's own codes cover
 * transport and parameters; the domain codes sit outside the reserved
 * range -32768..-32000 so a client can tell them apart at a glance.
 */
export const RpcErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  RequestCancelled: -32800,
} as const;

/** Domain errors: name → code and what it means. */
export const DomainErrors = {
  clock_not_manual: {
    code: 1001,
    description: "clock_set was called but the sidecar runs on the system clock (start it with --clock=manual)",
  },
  clock_backwards: {
    code: 1002,
    description: "clock_set asked to move the manual clock backwards; time only moves forward",
  },
  id_space_exhausted: {
    code: 1003,
    description:
      "a counter would pass 2^53-1: agent ids (agent_register), fences (a lock granted now or to a queued " +
      "lock_acquire), version seqs (version_record), an agent's edit_count (version_record), wait ids (a " +
      "lock_acquire that would wait) or event seqs (a call that could add events); the message names the counter " +
      "and nothing was changed",
  },
  shutting_down: {
    code: 1004,
    description: "the request arrived after shutdown; only the exit notification is accepted now",
  },
  stale_fence: {
    code: 1005,
    description:
      "version_record with a fence that is not a live exclusive lock of the agent on the path or a covering " +
      "directory (the lock expired or was lost, or it is shared and so authorises no write); nothing was recorded",
  },
  agent_gone: {
    code: 1006,
    description:
      "a waiting lock_acquire ended because its agent crashed, was unregistered or re-registered, or a restore " +
      "replaced the whole state",
  },
  quota_exceeded: {
    code: 1007,
    description:
      "the request would pass a limit (--max-agents, --max-locks-per-agent, --max-connections); nothing was changed",
  },
  not_owner: {
    code: 1008,
    description:
      "the agent is live and belongs to another connection; only that connection may heartbeat, lock, release, " +
      "record edits for or unregister it (once it has crashed, anyone may register it again)",
  },
  unauthorized: {
    code: 1009,
    description:
      "on a TCP connection the first request must be initialize with the server's auth_token; the connection is closed",
  },
  deadlock: {
    code: 1010,
    description:
      "a lock_acquire that would wait was refused at once: waiting would close a cycle of waits (each agent in it " +
      "waits for a lock or an earlier queued request of the next). `data.cycle` lists the waits from the requester " +
      "round to it, each {agent_id, path, waits_for}; nothing changed: the requester keeps its locks and the " +
      "others keep waiting",
  },
  store_unavailable: {
    code: 1011,
    description:
      "the PostgreSQL state (--state=postgres://...) could not be reached, so the call was not applied; nothing was " +
      "changed (when the connection was lost during a commit, the sidecar learned from the log that the commit had " +
      "not been made before answering). The sidecar reconnects on its own: send the call again",
  },
} as const;

/** Name of a documented domain error. */
export type DomainErrorName = keyof typeof DomainErrors;
