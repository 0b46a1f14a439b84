import { ResponseError } from "vscode-jsonrpc/node";
import type * as z from "zod/mini";
import { type DomainErrorName, DomainErrors, RpcErrorCodes } from "../../protocol/errors.js";
import { DomainError, InvalidInputError, describeIssue, fieldName } from "../core/errors.js";

/** Every error we send carries structured data naming the method. */
export type RpcFailure = ResponseError<Record<string, unknown>>;

/** -32602 naming the method, the field and what was wrong. */
export function invalidParams(method: string, field: string, problem: string): RpcFailure {
  return new ResponseError(RpcErrorCodes.InvalidParams, `${method}: ${field} ${problem}`, { method, field, problem });
}

/** The first zod issue of a params check as -32602. */
export function fromZodIssue(method: string, issue: z.core.$ZodIssue, parameters: string[], params: object): RpcFailure {
  const { path, problem } = describeIssue(issue, params, `is not a parameter of ${method} (it takes: ${parameters.join(", ") || "no parameters"})`);
  return invalidParams(method, fieldName(path), problem);
}

/** A domain error (protocol/errors.ts) naming the method. */
export function domainFailure(method: string, kind: DomainErrorName, message: string): RpcFailure {
  return new ResponseError(DomainErrors[kind].code, `${method}: ${message}`, { method, error: kind });
}

/** Map anything a handler threw to the error the client gets. */
export function toResponseError(method: string, error: unknown, log: (line: string) => void): RpcFailure {
  if (error instanceof ResponseError) return error as RpcFailure;
  if (error instanceof InvalidInputError) return invalidParams(method, error.field, error.problem);
  if (error instanceof DomainError) return domainFailure(method, error.kind, error.message);
  log(`internal error in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new ResponseError(RpcErrorCodes.InternalError, `${method}: internal error: ${error instanceof Error ? error.message : String(error)}`, { method });
}

