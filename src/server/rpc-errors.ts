import type * as z from "zod/mini";
import { type DomainErrorName, DomainErrors, RpcErrorCodes } from "../../protocol/errors.js";
import { DomainError, InvalidInputError, describeIssue, fieldName } from "../core/errors.js";
import type { RequestId } from "./request-id.js";

/**
 * Every error the server answers with is made here, one constructor per
 * kind: the codes come from protocol/errors.ts, and nothing else in
 * src/server or src/transport builds an error object or picks a code
 * (test/server/one-error-module.test.ts fails on one that does).
 */

/**
 * A JSON-RPC error object as a thrown error: vscode-jsonrpc's ResponseError, made here so that the server does not
 * load vscode-jsonrpc (a client still gets vscode-jsonrpc's own from the wire).
 */
export class ResponseError<D = unknown> extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: D,
  ) {
    super(message);
  }

  /** The error object of the reply. */
  toJson(): { code: number; message: string; data?: D } {
    const json: { code: number; message: string; data?: D } = { code: this.code, message: this.message };
    if (this.data !== undefined) json.data = this.data;
    return json;
  }
}

/** An error a request is answered with; its data names the method (and the field, or the domain error's name). */
export type RpcFailure = ResponseError<Record<string, unknown>>;

/** An error the transport answers itself, before dispatch (-32700, -32600), and the id it goes to. */
export interface TransportError {
  id: RequestId | null;
  error: { code: number; message: string };
}

/**
 * -32700: bytes that are not a message (unparseable JSON, a bad header block, a message cut short by the end of the
 * input).
 */
export function parseError(problem: string): TransportError {
  return { id: null, error: { code: RpcErrorCodes.ParseError, message: `Parse error: ${problem}` } };
}

/** -32600: a message over --max-message-bytes, discarded. */
export function messageTooLarge(problem: string): TransportError {
  return { id: null, error: { code: RpcErrorCodes.InvalidRequest, message: `Message too large: ${problem}` } };
}

/** -32600: a message that is not a JSON-RPC 2.0 request or notification (`id` null when it has no usable id). */
export function invalidRequest(id: RequestId | null, problem: string): TransportError {
  return { id, error: { code: RpcErrorCodes.InvalidRequest, message: `Invalid request: ${problem}` } };
}

/** -32601: no such method. */
export function methodNotFound(method: string): RpcFailure {
  return new ResponseError(
    RpcErrorCodes.MethodNotFound,
    `Unknown method ${JSON.stringify(method)}; initialize lists the methods`,
    { method },
  );
}

/** -32602 naming the method, the field and what was wrong. */
export function invalidParams(method: string, field: string, problem: string): RpcFailure {
  return new ResponseError(RpcErrorCodes.InvalidParams, `${method}: ${field} ${problem}`, { method, field, problem });
}

/** The first zod issue of a params check as -32602. */
export function fromZodIssue(
  method: string,
  issue: z.core.$ZodIssue,
  parameters: string[],
  params: object,
): RpcFailure {
  const { path, problem } = describeIssue(
    issue,
    params,
    `is not a parameter of ${method} (it takes: ${parameters.join(", ") || "no parameters"})`,
  );
  return invalidParams(method, fieldName(path), problem);
}

/** -32603: a bug. The caller logs the stack (see toResponseError). */
function internalError(method: string, error: unknown): RpcFailure {
  return new ResponseError(
    RpcErrorCodes.InternalError,
    `${method}: internal error: ${error instanceof Error ? error.message : String(error)}`,
    { method },
  );
}

/** -32800: a waiting request cancelled ($/cancelRequest, or the session ending). */
export function requestCancelled(method: string): RpcFailure {
  return new ResponseError(RpcErrorCodes.RequestCancelled, `${method}: cancelled while waiting`, { method });
}

/**
 * A domain error (protocol/errors.ts) naming the method; `data` goes beside `method` and `error` (a deadlock's
 * `cycle`).
 */
export function domainFailure(
  method: string,
  kind: DomainErrorName,
  message: string,
  data?: Readonly<Record<string, unknown>>,
): RpcFailure {
  return new ResponseError(DomainErrors[kind].code, `${method}: ${message}`, { method, error: kind, ...data });
}

/** shutting_down: a request after `shutdown`. */
export function shuttingDown(method: string): RpcFailure {
  return domainFailure(method, "shutting_down", "the server is shutting down; send the exit notification");
}

/** Map anything a handler threw to the error the client gets; an internal error's stack goes to `log`. */
export function toResponseError(method: string, error: unknown, log: (line: string) => void): RpcFailure {
  if (error instanceof ResponseError) return error as RpcFailure;
  if (error instanceof InvalidInputError) return invalidParams(method, error.field, error.problem);
  if (error instanceof DomainError) return domainFailure(method, error.kind, error.message, error.data);
  log(`internal error in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return internalError(method, error);
}

/** What a Harn script catches, by harn-hostlib's HostlibError kinds. */
export type HostlibKind = "invalid_parameter" | "missing_parameter" | "unimplemented" | "backend_error";

/**
 * -32601 for a builtin_call or host/call whose `name` is in harn-hostlib's
 * code_index namespace but not served here (`hostlib_code_index_query`):
 * harn-hostlib's Unimplemented, message and all.
 */
export function builtinNotServed(envelope: string, builtin: string, name: string): RpcFailure {
  const message =
    `hostlib: ${builtin} is not implemented yet (harn-registry serves agents, locks and the version ` +
    `log and indexes no files; host/capabilities lists what it serves)`;
  return new ResponseError(RpcErrorCodes.MethodNotFound, message, {
    method: envelope,
    name,
    kind: "unimplemented" satisfies HostlibKind,
    builtin,
  });
}

/** -32601 for a builtin_call or host/call whose `name` is outside harn-hostlib's code_index namespace. */
export function unknownBuiltin(envelope: string, name: string, form: string): RpcFailure {
  return new ResponseError(
    RpcErrorCodes.MethodNotFound,
    `${envelope}: no builtin ${JSON.stringify(name)} here; this sidecar serves ${form} for each method ` +
      `host/capabilities lists`,
    {
      method: envelope,
      name,
    },
  );
}

/**
 * An error of a call that came in builtin_call or host/call, as
 * harn-hostlib words it for `builtin`: the code stays, the message reads
 * `hostlib: <builtin>: ...` (invalid or missing parameter, or the domain
 * error's own words), and `data` keeps its fields and adds `kind`,
 * `builtin` and, for a parameter, `param`: what a host rethrows to the
 * script as the dict {kind, builtin, message} it catches. Anything but a
 * -32602 or -32601 (domain errors, a cancelled wait, an internal error)
 * is harn-hostlib's backend_error.
 */
export function asHostlibError(builtin: string, error: unknown): RpcFailure {
  if (!(error instanceof ResponseError)) return error as RpcFailure;
  const data = (error.data ?? {}) as Record<string, unknown>;
  if (typeof data.kind === "string") return error as RpcFailure;
  if (error.code === RpcErrorCodes.InvalidParams && typeof data.field === "string") {
    const param = data.field;
    const missing = data.problem === "is required";
    const message = missing
      ? `hostlib: ${builtin}: missing required parameter '${param}'`
      : `hostlib: ${builtin}: invalid parameter '${param}': ${String(data.problem)}`;
    return new ResponseError(error.code, message, {
      ...data,
      kind: (missing ? "missing_parameter" : "invalid_parameter") satisfies HostlibKind,
      builtin,
      param,
    });
  }
  const kind: HostlibKind = error.code === RpcErrorCodes.MethodNotFound ? "unimplemented" : "backend_error";
  const prefix = typeof data.method === "string" ? `${data.method}: ` : "";
  const words = prefix !== "" && error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new ResponseError(error.code, `hostlib: ${builtin}: ${words}`, { ...data, kind, builtin });
}

/** The code a thrown error is answered with (what metrics count). */
export function errorCode(error: unknown): number {
  return error instanceof ResponseError ? error.code : RpcErrorCodes.InternalError;
}
