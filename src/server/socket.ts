import { chmodSync, rmSync } from "node:fs";
import { type Server, type Socket, connect, createServer } from "node:net";
import { readAuthToken } from "../transport/auth-token.js";
import { Admission } from "./admission.js";
import { closeForGood } from "./close-socket.js";
import type { Framing } from "../transport/framing.js";
import { type Runtime, type RuntimeOptions, fatal, log, onStopSignals, openRuntime } from "./runtime.js";
import { type ListenAddress, formatListenAddress } from "../transport/listen-address.js";
import { Owners } from "./ownership.js";
import { type Session, startSession } from "./session.js";

/** Options of the socket server, as the command line gives them. */
export interface SocketServerOptions extends RuntimeOptions {
  listen: ListenAddress;
  framing: Framing | "auto";
  maxMessageBytes: number;
  /** A file holding the token the first request (initialize {auth_token}) must carry; required for TCP. */
  authTokenFile?: string;
  /** Keep a closed connection's agents (they time out as usual) instead of crashing them at once. */
  keepAgentsOnDisconnect: boolean;
  maxConnections: number;
  /** A connection not admitted (authenticated, given a slot) within this is closed. */
  authTimeoutMs: number;
  /** --max-queued-bytes: what one connection may have queued for it (see startSession). */
  maxQueuedBytes: number;
}

/**
 * Serve many connections on one registry: a unix socket (mode 0600) or a
 * loopback TCP port (every connection authenticates first; see
 * Admission for who is served). Each connection owns the agents it acts
 * as. A connection the server is done with (exit, a refused request, input
 * closed, not admitted in time) is destroyed once its replies are written,
 * whatever the peer does; then its agents crash and their locks are freed,
 * unless --keep-agents-on-disconnect. Input is read on while a peer does
 * not take its replies, up to --max-queued-bytes of them, then it is cut
 * off, so a peer that does not read cannot keep its slot. Runs until
 * SIGTERM, SIGINT or SIGHUP: then it stops reading every connection at
 * once, answers what they sent, writes it (each peer bounded by its
 * progress), removes the socket file and exits 0; a second signal exits at
 * once.
 */
export async function runSocketServer(options: SocketServerOptions): Promise<void> {
  // Taken before anything else, so that a signal during the start stops the process the same way (nothing was read
  // yet).
  const stop = onStopSignals();
  const token = options.authTokenFile === undefined ? undefined : readToken(options.authTokenFile);
  if (options.listen.kind === "unix") await clearStaleSocket(options.listen.path);
  const runtime = await openRuntime({ ...options, keepAgents: options.keepAgentsOnDisconnect }, log, fatal);
  const owners = new Owners(runtime.view);
  /** Crashes of closed connections' agents still to be answered (a store that answers later). */
  const crashing = new Set<Promise<void>>();
  const admission = new Admission({ token, maxConnections: options.maxConnections, timeoutMs: options.authTimeoutMs });
  const sessions = new Map<number, Session>();
  const sockets = new Set<Socket>();
  runtime.metrics.connections = () => admission.servedCount;
  let nextConnection = 0;

  let stopping = false;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    const id = ++nextConnection;
    const connectionLog = (line: string) => log(`connection ${id}: ${line}`);
    let finish = (_abandoned: boolean) => {};
    const session = startSession({
      input: socket,
      output: socket,
      runtime,
      framing: options.framing,
      maxMessageBytes: options.maxMessageBytes,
      maxQueuedBytes: options.maxQueuedBytes,
      readWhileCongested: true,
      ending: () => (finish = closeForGood(socket)),
      exit: (_code, abandoned) => finish(abandoned),
      log: connectionLog,
      actAs: (agentId, call) => owners.actAs(id, agentId, call),
      waiting: (agentId) => owners.waiting(id, agentId),
      admit: admission.arrive(id, (why) => session.stop(why)),
    });
    sessions.set(id, session);
    sockets.add(socket);
    socket.on("error", (error) => connectionLog(error.message));
    socket.on("close", () => {
      session.stop("connection closed");
      sessions.delete(id);
      sockets.delete(socket);
      admission.leave(id);
      const crash = closeConnection(runtime, owners, id, options.keepAgentsOnDisconnect, log);
      if (crash instanceof Promise) {
        crashing.add(crash);
        void crash.then(() => crashing.delete(crash));
      }
    });
  });
  await listen(server, options.listen);
  const journaled = runtime.durability === undefined ? "" : " (state journaled)";
  log(`listening on ${formatListenAddress(boundAddress(server, options.listen))}${journaled}`);

  let exiting = false;
  const done = () => {
    if (exiting) return;
    exiting = true;
    Promise.all(crashing)
      .then(() => runtime.close())
      .then(() => process.exit(0), fatal);
  };
  stop((signal, again) => {
    if (again) {
      log(`${signal} again: exiting now, ${sessions.size} connection(s) cut off`);
      for (const socket of sockets) socket.destroy();
      setImmediate(done);
      return;
    }
    stopping = true;
    log(`${signal}: closing ${sessions.size} connection(s), writing what is pending, then exiting`);
    server.close();
    for (const session of sessions.values()) session.stop(signal);
    const waitForSessions = () => (sessions.size === 0 ? done() : setTimeout(waitForSessions, 10));
    waitForSessions();
  });
}

/**
 * A connection is destroyed: its agents crash at once (their locks are freed), unless they are kept. With a store that
 * answers later, the promise of that (it never rejects: a crash that could not be made is logged).
 */
function closeConnection(
  runtime: Runtime,
  owners: Owners,
  id: number,
  keep: boolean,
  log: (line: string) => void,
): void | Promise<void> {
  const agents = owners.disconnect(id);
  const closed = (crashed: number[]) => {
    if (crashed.length > 0) runtime.afterRequest();
    log(
      `connection ${id} closed${crashed.length > 0 ? `: agents ${crashed.join(", ")} crashed, their locks freed` : ""}`,
    );
  };
  if (keep || agents.length === 0) return closed([]);
  const crashed = runtime.store.crashAgents(agents);
  if (!(crashed instanceof Promise)) return closed(crashed);
  return crashed.then(closed, (error: unknown) =>
    log(`connection ${id} closed; its agents ${agents.join(", ")} could not be crashed: ${(error as Error).message}`),
  );
}

function readToken(path: string): Buffer {
  const token = readAuthToken(path);
  if (token.length === 0) throw new Error(`--auth-token-file ${path} is empty; put a secret token in it`);
  return Buffer.from(token);
}

/** A socket file left by a server that is gone is removed; one that answers is somebody else's. */
async function clearStaleSocket(path: string): Promise<void> {
  const answered = await new Promise<boolean>((resolve) => {
    const probe: Socket = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (answered) throw new Error(`another server is listening on unix:${path}; stop it or use another path`);
  rmSync(path, { force: true });
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if (address.kind === "tcp") {
      server.listen(address.port, address.host, () => resolve());
      return;
    }
    const umask = process.umask(0o177);
    try {
      server.listen(address.path, () => {
        chmodSync(address.path, 0o600);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

function boundAddress(server: Server, address: ListenAddress): ListenAddress {
  const bound = server.address();
  return address.kind === "tcp" && bound !== null && typeof bound === "object"
    ? { ...address, port: bound.port }
    : address;
}
