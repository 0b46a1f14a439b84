import { timingSafeEqual } from "node:crypto";
import { normalizeAuthToken } from "../transport/auth-token.js";
import { type RpcFailure, domainFailure } from "./rpc-errors.js";

/**
 * Checked before every request of a connection: a failure refuses it, and the connection is closed once it is answered.
 */
export type Admit = (method: string, params: unknown) => RpcFailure | undefined;

/** Options of {@link Admission}, as the command line gives them. */
export interface AdmissionOptions {
  /** TCP: the token the first request (initialize {auth_token}) must carry. Unix connections have none. */
  token?: Buffer;
  /** --max-connections: connections served at once; as many more may wait to be admitted. */
  maxConnections: number;
  /** --auth-timeout-ms: a connection not admitted by then is closed. */
  timeoutMs: number;
}

interface Waiting {
  close(why: string): void;
  timer: NodeJS.Timeout;
}

/**
 * Which connections a socket server serves. A connection is served once
 * admitted: a unix connection when it arrives and a slot is free, a TCP
 * connection when it authenticates and a slot is free. Until then it
 * waits, apart from the served ones, so it never takes their slots: at
 * most --max-connections wait at once (a newcomer closes the oldest), and
 * one not admitted within --auth-timeout-ms is closed. A waiting
 * connection's request is refused with `unauthorized` until it
 * authenticates, and with `quota_exceeded` while every slot is taken.
 */
export class Admission {
  private readonly served = new Set<number>();
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly options: AdmissionOptions) {}

  /** Connections served now (what --max-connections bounds). */
  get servedCount(): number {
    return this.served.size;
  }

  /** A new connection, which `close` ends; returns the check its every request goes through. */
  arrive(id: number, close: (why: string) => void): Admit {
    const { token, maxConnections, timeoutMs } = this.options;
    if (token === undefined && this.served.size < maxConnections) {
      this.served.add(id);
      return () => undefined;
    }
    const oldest = this.waiting.size >= maxConnections ? this.waiting.entries().next().value : undefined;
    if (oldest !== undefined) {
      this.leave(oldest[0]);
      oldest[1].close(
        `closed to make room: ${maxConnections} connections (--max-connections) were already waiting to be admitted`,
      );
    }
    const timer = setTimeout(() => {
      this.leave(id);
      close(`not admitted within --auth-timeout-ms ${timeoutMs}`);
    }, timeoutMs);
    this.waiting.set(id, { close, timer });
    return (method, params) => this.admit(id, method, params);
  }

  /** A connection is gone: its slot, or its place among the waiting, is free. */
  leave(id: number): void {
    this.served.delete(id);
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(id);
  }

  private admit(id: number, method: string, params: unknown): RpcFailure | undefined {
    if (this.served.has(id)) return undefined;
    const { token, maxConnections } = this.options;
    if (token !== undefined) {
      const refusal = authProblem(method, params, token);
      if (refusal !== undefined) return domainFailure(method, "unauthorized", refusal);
    }
    if (this.served.size >= maxConnections) {
      return domainFailure(
        method,
        "quota_exceeded",
        `the server already serves --max-connections ${maxConnections} connections; try again later`,
      );
    }
    this.leave(id);
    this.served.add(id);
    return undefined;
  }
}

/**
 * Why a first request does not authenticate, or undefined when it does: a
 * request other than initialize, an initialize without auth_token, and a
 * wrong token each get their own message. The token is compared in
 * constant time.
 */
function authProblem(method: string, params: unknown, token: Buffer): string | undefined {
  if (method !== "initialize") {
    return (
      "not authenticated; the first request on a TCP connection must be initialize with the auth_token from the " +
      "server's --auth-token-file"
    );
  }
  const offered = (params as { auth_token?: unknown } | null | undefined)?.auth_token;
  if (offered === undefined)
    return "auth_token is required on a TCP connection: send the content of the server's --auth-token-file";
  const given = Buffer.from(typeof offered === "string" ? normalizeAuthToken(offered) : "");
  if (given.length === token.length && timingSafeEqual(given, token)) return undefined;
  return "auth_token does not match the server's --auth-token-file";
}
