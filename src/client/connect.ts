import { connect } from "node:net";
import { normalizeAuthToken, readAuthToken } from "../transport/auth-token.js";
import { connectOptions, parseListenAddress } from "../transport/listen-address.js";
import { type RegistryClient, openClient } from "./client.js";

/** Options of {@link connectRegistry}. */
export interface ConnectOptions {
  /** The server's token (surrounding whitespace is ignored, as the server ignores it in its file). */
  authToken?: string;
  /** A file holding the token, read as the server reads its --auth-token-file. */
  authTokenFile?: string;
}

/**
 * Connect a typed client to a running socket server (`unix:PATH` or
 * `tcp:127.0.0.1:PORT`, as given to --listen). With a token, the client
 * authenticates first (initialize {auth_token}), as TCP requires. When the
 * server goes away every pending request rejects with a
 * RegistryClosedError; `dispose` closes the connection (its agents then
 * crash, unless the server keeps them).
 */
export async function connectRegistry(address: string, options: ConnectOptions = {}): Promise<RegistryClient> {
  const target = parseListenAddress(address);
  if (typeof target === "string") throw new Error(`connectRegistry: address ${target}`);
  const token = options.authTokenFile !== undefined ? readAuthToken(options.authTokenFile) : options.authToken;
  const socket = connect(connectOptions(target));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (error) => reject(new Error(`cannot reach ${address}: ${error.message}`)));
  });
  const peer = `the server at ${address}`;
  const { client, end } = openClient(socket, socket, peer);
  socket.on("error", (error) => end(`the connection to ${peer} failed: ${error.message}`));
  socket.once("close", () => end(`${peer} closed the connection`));
  const dispose = client.dispose;
  client.dispose = () => {
    dispose();
    socket.destroy();
  };
  if (token !== undefined) await client.request("initialize", { auth_token: normalizeAuthToken(token) });
  return client;
}
