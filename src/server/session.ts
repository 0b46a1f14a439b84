import type { Readable, Writable } from "node:stream";
import { ServerConnection } from "./connection.js";
import { type ActAs, createDispatcher } from "./dispatch.js";
import type { RpcFailure } from "./rpc-errors.js";
import type { Framing } from "../transport/framing.js";
import { createHandlers } from "./handlers.js";
import type { Runtime } from "./runtime.js";
import { FramedMessageReader } from "./reader.js";
import { ConnectionWaits } from "./waits.js";
import { BatchingMessageWriter } from "./writer.js";

/** What a session needs: its streams, the runtime whose registry it serves and how to end it. */
export interface SessionOptions {
  input: Readable;
  output: Writable;
  /** The registry, its clock, journal and metrics; `afterRequest` runs after each request (the deadline timer re-arms). */
  runtime: Runtime;
  framing: Framing | "auto";
  maxMessageBytes: number;
  /** Called once, when the session has decided to end, before it writes what it owes (a socket server bounds that wait from here). */
  ending?(): void;
  /** Called once, after pending replies are written: 0 for a clean end, 1 for `exit` without `shutdown`. */
  exit(code: number): void;
  log(line: string): void;
  /** Ownership of agents (socket connections). */
  actAs?: ActAs;
  /** Checked before every request: an error refuses it and ends the session (it is answered, nothing after it is read). */
  admit?(method: string, params: unknown): RpcFailure | undefined;
}

/**
 * One JSON-RPC session over a stream pair: our reader, connection and
 * writer (on vscode-jsonrpc's interfaces), every request going through the
 * dispatcher. Ends on the `exit` notification, on input EOF (everything
 * received is answered, its waiting requests cancelled), on a refused
 * request (`admit`) and on a broken output pipe; from that moment nothing
 * more is read, so nothing sent after `exit` runs.
 */
export function startSession(options: SessionOptions): Session {
  const { input, output, log } = options;
  let framing: Framing = options.framing === "auto" ? "content-length" : options.framing;
  let shutDown = false;
  let ending = false;

  const writer = new BatchingMessageWriter(output, {
    framing: () => framing,
    onCongestion: (congested) => (congested ? input.pause() : input.resume()),
    onBrokenPipe: () => void end(0, "output closed by the peer"),
    durability: options.runtime.durability,
  });
  const reader = new FramedMessageReader(input, {
    framing: options.framing,
    maxMessageBytes: options.maxMessageBytes,
    onFraming: (detected) => (framing = detected),
    onChunkDone: () => writer.flush(),
    log,
  });
  const { store, metrics } = options.runtime;
  if (options.runtime.timeRequests) reader.onRejected((rejected) => metrics.error(rejected.error.code));
  const connection = new ServerConnection(reader, writer, log);

  const waits = new ConnectionWaits(store);
  const agents = options.runtime.bindings.connect();
  let unsubscribe: (() => void) | undefined;
  const subscribeEvents = () => {
    unsubscribe ??= store.events.subscribe((event) => void connection.sendNotification(event.type, event));
  };
  const handlers = createHandlers({
    registry: store,
    clock: options.runtime.clock,
    waits,
    framing: () => framing,
    subscribeEvents,
    shutdown: () => (shutDown = true),
    metrics: () => metrics.report(),
    configSources: options.runtime.configSources,
    agents,
  });
  const dispatch = createDispatcher({
    handlers,
    isShutDown: () => shutDown,
    log,
    actAs: options.actAs,
    metrics: options.runtime.timeRequests ? metrics : undefined,
  });
  connection.onRequest((method, params, token) => {
    const refusal = options.admit?.(method, params);
    if (refusal !== undefined) {
      void end(0, `refused: ${refusal.message}`);
      throw refusal;
    }
    try {
      return dispatch(method, params, token);
    } finally {
      options.runtime.afterRequest();
    }
  });
  connection.onNotification((method) => {
    if (method === "exit") void end(shutDown ? 0 : 1, shutDown ? "exit after shutdown" : "exit without shutdown");
  });
  connection.onClose(() => void end(0, "input closed"));

  /** Stop reading at once; then cancel this session's waits, let every answer be made, write them all and exit. */
  async function end(code: number, why: string): Promise<void> {
    if (ending) return;
    ending = true;
    connection.stopReading();
    log(`exiting with code ${code}: ${why}`);
    options.ending?.();
    unsubscribe?.();
    agents.close();
    do {
      waits.cancelAll();
      await new Promise((resolve) => setImmediate(resolve));
    } while (connection.waiting > 0);
    await writer.drain();
    options.exit(code);
  }

  connection.listen();
  return { connection, stop: (why) => void end(0, why) };
}

/** A running session; `stop` cancels its waits, writes what is queued and ends it with code 0. */
export interface Session {
  connection: ServerConnection;
  stop(why: string): void;
}
