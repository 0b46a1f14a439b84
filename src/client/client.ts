import type { Readable, Writable } from "node:stream";
import {
  createMessageConnection,
  type Disposable,
  type MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node";
import type { EventName, EventOf } from "../../protocol/events.js";
import { BUILTIN_PREFIX, HOST_CALL_PREFIX } from "../../protocol/host-names.js";
import type { HostCallable, MethodName, ParamsOf, ResultOf } from "../../protocol/methods.js";
import { RegistryClosedError } from "./closed-error.js";

/** Params are optional exactly when every field of the method is optional. */
export type ParamsArg<M extends MethodName> =
  Record<never, never> extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>];

/**
 * A typed harn-registry client; method names, params, results and events
 * come from protocol/. Every request returns a promise that settles: with
 * the result, with the server's error (a vscode-jsonrpc ResponseError
 * carrying `code`, `message` and `data`), or with a
 * {@link RegistryClosedError} naming why the connection ended (also for a
 * request made after that).
 */
export interface RegistryClient {
  request<M extends MethodName>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>>;
  /**
   * Call `method` as a Harn VM's host bridge does: `builtin_call {name:
   * "hostlib_code_index_<method>", args: [params]}` (`args: []` without
   * params). The result is the method's; an error carries harn-hostlib's
   * wording and `data.kind`, `data.builtin` (and `data.param`).
   */
  builtinCall<M extends HostCallable>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>>;
  /**
   * Call `method` as an ACP host forwards a script's
   * `host_call("code_index.<method>", params)`: `host/call {sessionId, name:
   * "code_index.<method>", args: params}`. `sessionId` picks the session's
   * current-agent slot (undefined: the connection's). Answers as builtinCall.
   */
  hostCall<M extends HostCallable>(
    sessionId: string | undefined,
    method: M,
    ...params: ParamsArg<M>
  ): Promise<ResultOf<M>>;
  /**
   * Call `handler` with every event `name` the server sends (after `initialize {events: true}` or `events_subscribe`).
   */
  onEvent<E extends EventName>(name: E, handler: (event: EventOf<E>) => void): Disposable;
  /** Send the `exit` notification. */
  exit(): Promise<void>;
  /** Why the connection ended, once it has (undefined while it is open). */
  readonly closedBecause: string | undefined;
  /** Resolves with the reason once the connection has ended. */
  readonly closed: Promise<string>;
  /** The underlying vscode-jsonrpc connection. */
  readonly connection: MessageConnection;
  /** Close the connection; pending requests settle with RegistryClosedError. Idempotent. */
  dispose(): void;
}

/**
 * What ends a client made by {@link openClient}: the caller reports deaths it can see (a child's exit, a socket's
 * close).
 */
export interface ClientControl {
  client: RegistryClient;
  /**
   * End the client because of `why`: every pending and later request rejects with it. Idempotent: the first reason
   * stays.
   */
  end(why: string): void;
}

/** A client over a stream pair (Content-Length framing, as vscode-jsonrpc speaks it). */
export function createClient(readable: Readable, writable: Writable): RegistryClient {
  const { client, end } = openClient(readable, writable);
  readable.once("end", () => end("the server closed the connection"));
  readable.once("error", (error) => end(`the connection failed: ${error.message}`));
  writable.once("error", (error) => end(`the connection failed: ${error.message}`));
  return client;
}

/**
 * A client whose end the caller decides (see {@link ClientControl}); `peer`
 * names the other side in reasons. With `endOnClose` (the default) the end
 * of the input also ends the client; a caller that learns more from another
 * source (a child's exit status) turns it off and calls `end` itself.
 */
export function openClient(
  readable: Readable,
  writable: Writable,
  peer = "the server",
  endOnClose = true,
): ClientControl {
  const connection = createMessageConnection(new StreamMessageReader(readable), new StreamMessageWriter(writable));
  /** Each pending request's reject, with its method. */
  const pending = new Map<(error: Error) => void, string>();
  let closedBecause: string | undefined;
  let resolveClosed: (why: string) => void = () => {};
  const closed = new Promise<string>((resolve) => (resolveClosed = resolve));
  const end = (why: string) => {
    if (closedBecause !== undefined) return;
    closedBecause = why;
    for (const [reject, method] of [...pending]) reject(new RegistryClosedError(why, method));
    pending.clear();
    resolveClosed(why);
    connection.dispose();
  };
  if (endOnClose) connection.onClose(() => end(`${peer} closed the connection`));
  connection.onError(([error]) => end(`the connection to ${peer} failed: ${error.message}`));
  connection.listen();
  const request: RegistryClient["request"] = (method, ...params) =>
    new Promise((resolve, reject) => {
      if (closedBecause !== undefined) {
        reject(new RegistryClosedError(closedBecause, method));
        return;
      }
      pending.set(reject, method);
      const settle = () => pending.delete(reject);
      connection.sendRequest(method, jsonSafe(params[0] ?? {})).then(
        (value) => {
          settle();
          resolve(value as ResultOf<typeof method>);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  const client: RegistryClient = {
    connection,
    closed,
    get closedBecause() {
      return closedBecause;
    },
    request,
    builtinCall: (method, ...params) =>
      request("builtin_call", {
        name: `${BUILTIN_PREFIX}${method}`,
        args: params[0] === undefined ? [] : [jsonSafe(params[0])],
      }) as Promise<ResultOf<typeof method>>,
    hostCall: (sessionId, method, ...params) =>
      request("host/call", {
        ...(sessionId === undefined ? {} : { sessionId }),
        name: `${HOST_CALL_PREFIX}${method}`,
        ...(params[0] === undefined ? {} : { args: jsonSafe(params[0]) }),
      }) as Promise<ResultOf<typeof method>>,
    onEvent: (name, handler) =>
      connection.onNotification(name, (params: unknown) => handler(params as EventOf<typeof name>)),
    exit: async () => {
      if (closedBecause === undefined) await connection.sendNotification("exit");
    },
    dispose: () => end("the client was disposed"),
  };
  return { client, end };
}

/** bigint (a 64-bit hash) is sent as its decimal string, which the server accepts. */
function jsonSafe(params: object): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(params)) out[key] = typeof value === "bigint" ? value.toString() : value;
  return out;
}
