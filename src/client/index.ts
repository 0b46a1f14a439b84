import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  createMessageConnection,
  type MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node";
import type { MethodName, ParamsOf, ResultOf } from "../../protocol/methods.js";
import { parseListenAddress } from "../server/listen-address.js";

export type { MethodName, ParamsOf, ResultOf };

/** Params are optional exactly when every field of the method is optional. */
type ParamsArg<M extends MethodName> = Record<never, never> extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>];

/** A typed harn-registry client; method names, params and results come from protocol/methods.ts. */
export interface RegistryClient {
  request<M extends MethodName>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>>;
  /** Send the `exit` notification. */
  exit(): Promise<void>;
  readonly connection: MessageConnection;
  dispose(): void;
}

/** A client over a stream pair (Content-Length framing, as vscode-jsonrpc speaks it). */
export function createClient(readable: Readable, writable: Writable): RegistryClient {
  const connection = createMessageConnection(new StreamMessageReader(readable), new StreamMessageWriter(writable));
  connection.listen();
  return {
    connection,
    request: (method, ...params) => connection.sendRequest(method, jsonSafe(params[0] ?? {})),
    exit: () => connection.sendNotification("exit"),
    dispose: () => connection.dispose(),
  };
}

/**
 * Connect a typed client to a running socket server (`unix:PATH` or
 * `tcp:127.0.0.1:PORT`, as given to --listen). With `authToken`, the
 * client authenticates first (initialize {auth_token}), as TCP requires.
 * `dispose` closes the connection (its agents then crash, unless the
 * server keeps them).
 */
export async function connectRegistry(address: string, options: { authToken?: string } = {}): Promise<RegistryClient> {
  const target = parseListenAddress(address);
  if (typeof target === "string") throw new Error(`connectRegistry: address ${target}`);
  const socket = target.kind === "unix" ? connect(target.path) : connect(target.port, target.host);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const client = createClient(socket, socket);
  const closing: RegistryClient = {
    ...client,
    dispose: () => {
      client.dispose();
      socket.end();
    },
  };
  if (options.authToken !== undefined) await client.request("initialize", { auth_token: options.authToken });
  return closing;
}

/** Options of {@link spawnSidecar}. */
export interface SpawnOptions {
  /** Extra command-line flags, e.g. `["--clock=manual"]`. */
  args?: string[];
  /** What to do with the sidecar's stderr (its log). Default: inherit. */
  stderr?: "inherit" | "pipe" | "ignore";
}

/** A running sidecar and its client. */
export interface Sidecar {
  client: RegistryClient;
  child: ChildProcess;
  /** `shutdown`, then `exit`; resolves with the exit code. */
  close(): Promise<number | null>;
}

/** Spawn the sidecar as a child process and connect a typed client to it. */
export function spawnSidecar(options: SpawnOptions = {}): Sidecar {
  const child = spawn(process.execPath, [sidecarBin(), ...(options.args ?? [])], {
    stdio: ["pipe", "pipe", options.stderr ?? "inherit"],
  });
  const client = createClient(child.stdout as Readable, child.stdin as Writable);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    client,
    child,
    close: async () => {
      if (child.exitCode === null) {
        await client.request("shutdown");
        await client.exit();
      }
      const code = await exited;
      client.dispose();
      return code;
    },
  };
}

/** The bin next to this module, whether it runs from dist/ or from src/client/. */
function sidecarBin(): string {
  for (const candidate of ["../bin/harn-registry", "../../bin/harn-registry"]) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("harn-registry: cannot find bin/harn-registry next to the client");
}

/** bigint (a 64-bit hash) is sent as its decimal string, which the server accepts. */
function jsonSafe(params: object): object {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, typeof value === "bigint" ? value.toString() : value]));
}
