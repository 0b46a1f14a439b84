import { type Socket, connect } from "node:net";
import { readAuthToken } from "./auth-token.js";
import { type ListenAddress, connectOptions, formatListenAddress } from "./listen-address.js";
import { FramingDetector, detectFraming } from "./detect-framing.js";
import {
  ContentLengthDecoder,
  type FrameDecoder,
  type FrameSink,
  type Framing,
  NdjsonDecoder,
  encodeFrame,
  frameAt,
} from "./framing.js";

const AUTH_ID = "harn-registry-connect/auth";
/**
 * Whether an error ends the session it answers: unauthorized (1009), or quota_exceeded (1007) for --max-connections
 * (other quotas refuse one request only).
 */
function refusesSession(code: unknown, message: string): boolean {
  return code === 1009 || (code === 1007 && message.includes("--max-connections"));
}

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
 *
 * The end of stdin is passed on as a half-close: the server answers
 * everything it received, then closes, and the bridge exits once stdout
 * has taken every reply. It exits 0 when the session ended as the host
 * asked (its input ended, or it sent `exit` after `shutdown`) with every
 * request answered; otherwise 1, with one line naming the server and the
 * cause: it refused the session (quota_exceeded, unauthorized), or it
 * closed the connection (stopped, killed, cut off) with requests
 * unanswered or while the host was still sending. To tell, the bridge
 * counts the messages that call for an answer on the way in and the
 * answers on the way out (see {@link Ledger}). A host that closes stdout
 * ends the bridge quietly (exit 0), as it ends a sidecar.
 */
export function runConnectBridge(options: ConnectOptions): void {
  const server = formatListenAddress(options.listen);
  const log = (line: string) => process.stderr.write(`harn-registry connect: ${line}\n`);
  const token = options.authTokenFile === undefined ? undefined : readAuthToken(options.authTokenFile);
  const ledger = new Ledger();
  let inputEnded = false;
  let failure: string | undefined;
  let exiting = false;
  /** Exit once stdout has taken everything it was given. */
  const exit = (code: number, line?: string) => {
    if (exiting) return;
    exiting = true;
    if (line !== undefined) log(line);
    process.stdout.write("", () => process.exit(code));
  };
  const socket = connect(connectOptions(options.listen));
  process.stdout.on("error", () => {
    socket.destroy();
    process.exit(0);
  });
  socket.once("error", (error) => {
    log(`cannot reach ${server}: ${error.message} (is a server running with --listen=${server}?)`);
    process.exit(1);
  });
  socket.once("connect", () => {
    socket.removeAllListeners("error");
    socket.on("error", (error) => (failure = error.message));
    socket.on("close", () => {
      const verdict = ledger.verdict(inputEnded, server, failure);
      exit(verdict.status, verdict.line);
    });
    process.stdin.on("data", (chunk: Buffer) => ledger.fromHost(chunk));
    process.stdin.on("end", () => {
      inputEnded = true;
      ledger.hostEnded();
      socket.end();
    });
    const fromServer = (chunk: Buffer) => ledger.fromServer(chunk);
    if (token === undefined) {
      process.stdin.pipe(socket, { end: false });
      socket.on("data", fromServer);
      socket.pipe(process.stdout, { end: false });
      return;
    }
    process.stdin.once("data", (first: Buffer) => {
      const framing = detectFraming(first).framing ?? "ndjson";
      socket.write(
        encodeFrame(
          framing,
          JSON.stringify({ jsonrpc: "2.0", id: AUTH_ID, method: "initialize", params: { auth_token: token } }),
        ),
      );
      socket.write(first);
      process.stdin.pipe(socket, { end: false });
      swallowAuthReply(
        socket,
        framing,
        server,
        (rest) => {
          if (rest.length > 0) {
            fromServer(rest);
            process.stdout.write(rest);
          }
          socket.on("data", fromServer);
          socket.pipe(process.stdout, { end: false });
        },
        (why) => {
          socket.removeAllListeners("close");
          socket.destroy();
          exit(1, `authentication refused: ${why} (by ${server})`);
        },
      );
    });
  });
}

/**
 * Read the server's first frame (the reply to our initialize): on success hand on what came after it, else say why it
 * failed.
 */
function swallowAuthReply(
  socket: Socket,
  framing: Framing,
  server: string,
  passed: (rest: Buffer) => void,
  refused: (why: string) => void,
): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const frame = frameAt(buffered, framing);
    if (frame === undefined) return;
    socket.off("data", onData);
    const reply = JSON.parse(buffered.toString("utf8", frame.start, frame.end)) as {
      id?: unknown;
      error?: { message?: string };
    };
    if (reply.id !== AUTH_ID || reply.error !== undefined)
      refused(reply.error?.message ?? `unexpected first reply from ${server}`);
    else passed(buffered.subarray(frame.next));
  };
  socket.on("data", onData);
}

/**
 * No limit of its own: the server applies --max-message-bytes (and answers an oversized message, which the ledger
 * expects).
 */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * What the bridge has seen go by, to tell a finished session from a lost
 * one: the messages from the host that the server must answer (a request;
 * anything it cannot take as a message or a notification, which it answers
 * with an error), counted until the host sends `exit`; the answers from the
 * server (every message with an `id` and no `method`); and an error that
 * refused the session (nothing after it is served). Each side's
 * framing is detected from its own first bytes.
 */
export class Ledger {
  /** Answers the host is owed. */
  owed = 0;
  answered = 0;
  exitSent = false;
  shutdownSent = false;
  /** The message of the error with which the server refused the session, if it did (see refusesSession). */
  refusal: string | undefined;
  private readonly host = new SideDecoder({
    message: (text) => this.hostMessage(text),
    malformed: () => this.expect(),
  });
  private readonly server = new SideDecoder({ message: (text) => this.serverMessage(text), malformed: () => {} });

  fromHost(chunk: Buffer): void {
    if (!this.exitSent) this.host.push(chunk);
  }

  hostEnded(): void {
    if (!this.exitSent) this.host.end();
  }

  fromServer(chunk: Buffer): void {
    this.server.push(chunk);
  }

  /**
   * How the bridge ends once the server closed: 0 when the session ended as the host asked with everything answered,
   * else 1 and why.
   */
  verdict(inputEnded: boolean, server: string, failure: string | undefined): { status: number; line?: string } {
    const unanswered = Math.max(0, this.owed - this.answered);
    if (this.refusal !== undefined) return { status: 1, line: `${server} refused the session: ${this.refusal}` };
    if ((inputEnded || this.exitSent) && unanswered === 0) {
      return this.exitSent && !this.shutdownSent
        ? { status: 1, line: "exit without shutdown (the LSP rule: exit code 1)" }
        : { status: 0 };
    }
    const how = failure === undefined ? "closed the connection" : `broke the connection (${failure})`;
    const what =
      unanswered > 0
        ? `with ${unanswered} request${unanswered === 1 ? "" : "s"} unanswered`
        : "while the host was still connected";
    return {
      status: 1,
      line: `${server} ${how} ${what}: the server was stopped or killed, or cut this connection off (see its log)`,
    };
  }

  private expect(): void {
    this.owed++;
  }

  private hostMessage(text: string): void {
    if (this.exitSent) return;
    let message: unknown;
    try {
      message = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch {
      this.expect();
      return;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      this.expect();
      return;
    }
    const { jsonrpc, id, method } = message as { jsonrpc?: unknown; id?: unknown; method?: unknown };
    const hasId = "id" in message;
    const validId = typeof id === "string" || typeof id === "number";
    if ("method" in message) {
      if (hasId || jsonrpc !== "2.0" || typeof method !== "string") this.expect();
      if (method === "shutdown" && hasId) this.shutdownSent = true;
      if (method === "exit" && !hasId && jsonrpc === "2.0") this.exitSent = true;
      return;
    }
    // A response sent to the server is ignored; anything else without a method is answered -32600.
    if (!(validId && jsonrpc === "2.0" && ("result" in message || "error" in message))) this.expect();
  }

  private serverMessage(text: string): void {
    let message: { id?: unknown; method?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.method !== undefined || !("id" in message)) return;
    this.answered++;
    const problem = String(message.error?.message);
    if (this.refusal === undefined && refusesSession(message.error?.code, problem)) this.refusal = problem;
  }
}

/** One direction's frames, in the framing its first bytes show. */
class SideDecoder {
  private decoder: FrameDecoder | undefined;
  private readonly detector = new FramingDetector();

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    if (this.decoder === undefined) {
      const decided = this.detector.take(chunk);
      if (decided === undefined) return;
      this.decoder =
        decided.framing === "ndjson"
          ? new NdjsonDecoder(NO_LIMIT, this.sink)
          : new ContentLengthDecoder(NO_LIMIT, this.sink);
      chunk = decided.rest;
    }
    this.decoder.push(chunk);
  }

  end(): void {
    const leftover = this.decoder === undefined ? this.detector.leftover() : undefined;
    if (leftover !== undefined) {
      this.decoder = new NdjsonDecoder(NO_LIMIT, this.sink);
      this.decoder.push(leftover);
    }
    this.decoder?.end();
  }
}
