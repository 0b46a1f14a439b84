import { timingSafeEqual } from "node:crypto";
import { type RpcFailure, domainFailure } from "./errors.js";

/** Checked before every request of a connection: a failure refuses it, and the connection is closed once it is answered. */
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
      oldest[1].close(`closed to make room: ${maxConnections} connections (--max-connections) were already waiting to be admitted`);
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
    if (token !== undefined && !(method === "initialize" && offersToken(params, token))) {
      return domainFailure(method, "unauthorized", "not authenticated; the first request on a TCP connection must be initialize with the auth_token from the server's --auth-token-file");
    }
    if (this.served.size >= maxConnections) {
      return domainFailure(method, "quota_exceeded", `the server already serves --max-connections ${maxConnections} connections; try again later`);
    }
    this.leave(id);
    this.served.add(id);
    return undefined;
  }
}

/** Whether `params` carry `auth_token` equal to `token` (compared in constant time). */
function offersToken(params: unknown, token: Buffer): boolean {
  const offered = (params as { auth_token?: unknown } | null | undefined)?.auth_token;
  if (typeof offered !== "string") return false;
  const given = Buffer.from(offered);
  return given.length === token.length && timingSafeEqual(given, token);
}
