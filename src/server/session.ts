import type { Readable, Writable } from "node:stream";
import type { CancellationToken } from "vscode-jsonrpc/node";
import { ServerConnection } from "./connection.js";
import { type ActAs, createDispatcher } from "./dispatch.js";
import type { RpcFailure } from "./rpc-errors.js";
import type { Framing } from "../transport/framing.js";
import { type HandlerTable, LOCAL_METHODS, createHandlers } from "./handlers.js";
import type { Runtime } from "./runtime.js";
import { FramedMessageReader } from "./reader.js";
import { ReplyOrder } from "./reply-order.js";
import { ConnectionWaits } from "./waits.js";
import { BatchingMessageWriter, FLUSH_BOUND_MS } from "./writer.js";

/** What a session needs: its streams, the runtime whose registry it serves and how to end it. */
export interface SessionOptions {
  input: Readable;
  output: Writable;
  /**
   * The registry, its clock, journal and metrics; `afterRequest` runs after each request (the deadline timer re-arms).
   */
  runtime: Runtime;
  framing: Framing | "auto";
  maxMessageBytes: number;
  /**
   * --max-queued-bytes: past it the event subscription is dropped (`events/dropped`), and a peer that leaves more
   * replies than that unread is cut off.
   */
  maxQueuedBytes?: number;
  /**
   * Keep reading while the output is congested (a socket: up to maxQueuedBytes of replies) instead of pausing the input
   * (stdio).
   */
  readWhileCongested?: boolean;
  /**
   * Called once, when the session has decided to end, before it writes what it owes (a socket server reads and drops
   * its input from here).
   */
  ending?(): void;
  /**
   * Called once, after pending replies are written: 0 for a clean end, 1 for `exit` without `shutdown` or a
   * peer cut off for not reading. `abandoned`: what was owed could not all be written (the output is not
   * taking it): close at once, do not wait for it.
   */
  exit(code: number, abandoned: boolean): void;
  log(line: string): void;
  /** Ownership of agents (socket connections). */
  actAs?: ActAs;
  /** A lock_acquire of this session started waiting, acting as `agentId` (ownership: it acted as the agent). */
  waiting?(agentId: number): void;
  /**
   * Checked before every request: an error refuses it and ends the session (it is answered, nothing after it is read).
   */
  admit?(method: string, params: unknown): RpcFailure | undefined;
}

/**
 * One JSON-RPC session over a stream pair: our reader, connection and
 * writer (on vscode-jsonrpc's interfaces), every request going through the
 * dispatcher. Ends on the `exit` notification, on input EOF (everything
 * received is answered, its waiting requests cancelled), on a refused
 * request (`admit`), on a broken output pipe and on a peer that does not
 * read (more than maxQueuedBytes of replies queued); from that moment
 * nothing more is read, so nothing sent after `exit` runs. What it
 * registered (the journal's listener, the event subscription, its waits)
 * is released when it ends. With a store that answers later (the runtime's
 * `store` is not its `view`), replies are kept in request order by a
 * {@link ReplyOrder}.
 */
export function startSession(options: SessionOptions): Session {
  const { input, output, log } = options;
  let framing: Framing = options.framing === "auto" ? "content-length" : options.framing;
  let shutDown = false;
  let ending = false;

  const writer = new BatchingMessageWriter(output, {
    framing: () => framing,
    onCongestion: (congested) => {
      if (options.readWhileCongested !== true) void (congested ? input.pause() : input.resume());
    },
    onBrokenPipe: () => void end(0, "output closed by the peer"),
    durability: options.runtime.durability,
    maxQueuedBytes: options.maxQueuedBytes,
    onOverflow: (queued) =>
      void end(
        1,
        `the peer does not read its replies: ${queued} bytes of them were queued, past --max-queued-bytes ` +
          `${options.maxQueuedBytes}; cut off`,
      ),
  });
  const reader = new FramedMessageReader(input, {
    framing: options.framing,
    maxMessageBytes: options.maxMessageBytes,
    onFraming: (detected) => (framing = detected),
    onChunkStart: () => writer.hold(),
    onChunkDone: () => {
      writer.release();
      options.runtime.metrics.chunkDone();
    },
    log,
  });
  const { store, view, metrics, afterRequest } = options.runtime;
  if (options.runtime.timeRequests) reader.onRejected((rejected) => metrics.error(rejected.error.code));
  const order = store === view ? undefined : new ReplyOrder(afterRequest);
  const connection = new ServerConnection(order === undefined ? reader : order.reader(reader), writer, log);

  const waits = new ConnectionWaits(store, (agentId, token) => {
    order?.waiting(token);
    options.waiting?.(agentId);
  });
  const agents = options.runtime.bindings.connect();
  let unsubscribe: (() => void) | undefined;
  const subscribeEvents = () => {
    unsubscribe ??= view.events.subscribe((event) => {
      if (writer.backedUp) dropEvents(event.event_seq - 1);
      else connection.sendNotification(event.type, event);
    });
  };
  /** The peer does not take its events: stop sending them, and say from which one it can catch up (events_since). */
  const dropEvents = (latestSeq: number) => {
    unsubscribe?.();
    unsubscribe = undefined;
    connection.sendNotification("events/dropped", { latest_seq: latestSeq });
    log(
      `events dropped after event_seq ${latestSeq}: the peer did not take them and --max-queued-bytes ` +
        `${options.maxQueuedBytes} were queued`,
    );
  };
  const handlers = createHandlers({
    registry: store,
    view,
    clock: options.runtime.clock,
    waits,
    framing: () => framing,
    subscribeEvents,
    shutdown: () => (shutDown = true),
    metrics: () => metrics.report(),
    configSources: options.runtime.configSources,
    agents,
  });
  if (order !== undefined) deferLocal(handlers, order);
  const dispatch = createDispatcher({
    handlers,
    isShutDown: () => shutDown,
    log,
    actAs: options.actAs,
    metrics: options.runtime.timeRequests ? metrics : undefined,
  });
  const serve = (method: string, params: unknown, token: CancellationToken) => {
    const refusal = options.admit?.(method, params);
    if (refusal !== undefined) {
      void end(0, `refused: ${refusal.message}`);
      throw refusal;
    }
    try {
      return dispatch(method, params, token);
    } finally {
      afterRequest();
    }
  };
  connection.onRequest(
    order === undefined ? serve : (method, params, token) => order.request(token, () => serve(method, params, token)),
  );
  connection.onNotification((method) => {
    if (method === "exit") void end(shutDown ? 0 : 1, shutDown ? "exit after shutdown" : "exit without shutdown");
  });
  connection.onClose(() => void end(0, "input closed"));

  /**
   * Stop reading at once; then cancel this session's waits, let every answer be made, write them all
   * (a peer that takes none of them for FLUSH_BOUND_MS loses the rest), release what the session
   * registered and exit.
   */
  async function end(code: number, why: string): Promise<void> {
    if (ending) return;
    ending = true;
    connection.stopReading();
    log(`exiting with code ${code}: ${why}`);
    options.ending?.();
    unsubscribe?.();
    unsubscribe = undefined;
    agents.close();
    do {
      waits.cancelAll();
      await new Promise((resolve) => setImmediate(resolve));
    } while (connection.waiting > 0);
    const drained = await writer.drain(FLUSH_BOUND_MS);
    if (drained === "stalled") log(`the peer did not take its replies within ${FLUSH_BOUND_MS} ms; cut off`);
    writer.dispose();
    options.exit(code, drained !== "written");
  }

  connection.listen();
  return { connection, stop: (why) => void end(0, why) };
}

/** With a store that answers later: the handlers that read what this process knows run after the replies before. */
function deferLocal(handlers: HandlerTable, order: ReplyOrder): void {
  for (const name of LOCAL_METHODS) {
    const handler = handlers[name] as (...args: unknown[]) => unknown;
    (handlers as Record<string, unknown>)[name] = (...args: unknown[]) => order.defer(() => handler(...args));
  }
}

/** A running session; `stop` cancels its waits, writes what is queued and ends it with code 0. */
export interface Session {
  connection: ServerConnection;
  stop(why: string): void;
}
