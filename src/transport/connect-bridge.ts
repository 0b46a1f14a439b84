import { type Socket, connect } from "node:net";
import { readAuthToken } from "./auth-token.js";
import { type ListenAddress, connectOptions, formatListenAddress } from "./listen-address.js";
import { detectFraming } from "./detect-framing.js";
import { type Framing, encodeFrame, frameAt } from "./framing.js";

const AUTH_ID = "harn-registry-connect/auth";

/** Options of `harn-registry connect`. */
export interface ConnectOptions {
  listen: ListenAddress;
  authTokenFile?: string;
}

/**
 * Bridge stdin/stdout to a running socket server, byte for byte, so a host
 * that can only spawn a child joins a shared registry. With a token, the
 * bridge authenticates first: it sends initialize {auth_token} in the
 * host's framing and swallows the reply, so the host never sees the token.
 * Exits when either side closes.
 */
export function runConnectBridge(options: ConnectOptions): void {
  const log = (line: string) => process.stderr.write(`harn-registry connect: ${line}\n`);
  const token = options.authTokenFile === undefined ? undefined : readAuthToken(options.authTokenFile);
  const socket = connect(connectOptions(options.listen));
  socket.once("error", (error) => {
    log(`cannot reach ${formatListenAddress(options.listen)}: ${error.message} (is a server running with --listen=${formatListenAddress(options.listen)}?)`);
    process.exit(1);
  });
  socket.once("connect", () => {
    socket.on("error", (error) => log(error.message));
    socket.on("close", () => process.exit(0));
    process.stdin.on("end", () => socket.end());
    if (token === undefined) {
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      return;
    }
    process.stdin.once("data", (first: Buffer) => {
      const framing = detectFraming(first).framing ?? "ndjson";
      socket.write(encodeFrame(framing, JSON.stringify({ jsonrpc: "2.0", id: AUTH_ID, method: "initialize", params: { auth_token: token } })));
      socket.write(first);
      process.stdin.pipe(socket);
      swallowAuthReply(socket, framing, log, formatListenAddress(options.listen));
    });
  });
}

/** Read the server's first frame (the reply to our initialize); on success pass everything after it through. */
function swallowAuthReply(socket: Socket, framing: Framing, log: (line: string) => void, server: string): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const frame = frameAt(buffered, framing);
    if (frame === undefined) return;
    socket.off("data", onData);
    const reply = JSON.parse(buffered.toString("utf8", frame.start, frame.end)) as { id?: unknown; error?: { message?: string } };
    if (reply.id !== AUTH_ID || reply.error !== undefined) {
      log(`authentication refused: ${reply.error?.message ?? "unexpected first reply"} (by ${server})`);
      process.exit(1);
    }
    if (frame.next < buffered.length) process.stdout.write(buffered.subarray(frame.next));
    socket.pipe(process.stdout);
  };
  socket.on("data", onData);
}
