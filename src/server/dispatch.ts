import type { CancellationToken } from "vscode-jsonrpc/node";
import type * as z from "zod/mini";
import { type MethodName, methods } from "../../protocol/methods.js";
import { type Precheck, precheck } from "../../protocol/precheck.js";
import { describeValue } from "../core/errors.js";
import { errorCode, fromZodIssue, invalidParams, methodNotFound, shuttingDown, toResponseError } from "./rpc-errors.js";
import type { HandlerTable } from "./handlers.js";
import type { ServerMetrics } from "./metrics.js";

/** Params that pass a method's precheck (compiled from its zod schema) skip zod: no copy, no allocation. */
const prechecks = new Map(Object.entries(methods).map(([name, spec]) => [name, precheck(spec.params)]));

const parameterNames = new Map(
  Object.entries(methods).map(([name, spec]) => [name, Object.keys((spec.params as z.ZodMiniObject).shape)]),
);

/** Wraps the run of a handler that acts as an agent: its `agent_id`, or "new" when the call creates one. */
export type ActAs = <T>(agentId: number | "new", call: () => T) => T;

/** What a dispatcher needs. */
export interface DispatchOptions {
  handlers: HandlerTable;
  isShutDown(): boolean;
  log(line: string): void;
  /** Ownership of agents (socket connections). */
  actAs?: ActAs;
  /** Request counts, error codes and latency (off with --no-metrics). */
  metrics?: ServerMetrics;
}

type Dispatch = (method: string, params: unknown, token: CancellationToken) => unknown;

/**
 * Validate a request's params against its method's schema and run its
 * handler (which may answer later, with a promise). Every failure becomes a
 * ResponseError; nothing is changed by a request that fails validation.
 * With metrics, each request is counted and timed.
 */
export function createDispatcher(options: DispatchOptions): Dispatch {
  const handle = createHandle(options);
  const metrics = options.metrics;
  if (metrics === undefined) return handle;
  const failed = (start: number, error: unknown) => {
    metrics.took(start);
    metrics.error(errorCode(error));
    return error;
  };
  return (method, params, token) => {
    const start = performance.now();
    if (Object.hasOwn(methods, method)) metrics.request(method);
    try {
      const result = handle(method, params, token);
      if (!(result instanceof Promise)) {
        metrics.took(start);
        return result;
      }
      return result.then(
        (value: unknown) => {
          metrics.took(start);
          return value;
        },
        (error: unknown) => {
          throw failed(start, error);
        },
      );
    } catch (error) {
      throw failed(start, error);
    }
  };
}

function createHandle({ handlers, isShutDown, log, actAs }: DispatchOptions): Dispatch {
  return (method, params, token) => {
    if (!Object.hasOwn(methods, method)) {
      throw methodNotFound(method);
    }
    const name = method as MethodName;
    if (isShutDown()) throw shuttingDown(name);
    const raw = params === undefined ? {} : params;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw invalidParams(name, "params", `must be an object of named parameters, got ${describeValue(raw)}`);
    }
    const parsed = (prechecks.get(name) as Precheck)(raw) ? { data: raw } : methods[name].params.safeParse(raw);
    if ("success" in parsed && !parsed.success) throw fromZodIssue(name, parsed.error.issues[0] as z.core.$ZodIssue, parameterNames.get(name) ?? [], raw);
    try {
      const run = () => (handlers[name] as (p: unknown, t: CancellationToken) => unknown)(parsed.data, token);
      const agentId = (parsed.data as { agent_id?: number }).agent_id;
      const result = actAs === undefined || !("actsAsAgent" in methods[name]) || agentId === 0 ? run() : actAs(agentId ?? "new", run);
      if (result instanceof Promise) {
        return result.catch((error: unknown) => {
          throw toResponseError(name, error, log);
        });
      }
      return result;
    } catch (error) {
      throw toResponseError(name, error, log);
    }
  };
}
