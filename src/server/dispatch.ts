import type { CancellationToken } from "vscode-jsonrpc/node";
import type * as z from "zod/mini";
import { BUILTIN_PREFIX, HOST_CALL_PREFIX } from "../../protocol/host-names.js";
import { type MethodIndexEntry, hostCallableNames, methodIndex, methodNames } from "../../protocol/method-index.js";
import type { EnvelopeName, HostCallable, MethodName } from "../../protocol/methods.js";
import { zodSchemas } from "../../protocol/on-demand.js";
import { type Precheck, byZod, compilePlan, schemaAt } from "../../protocol/precheck-plan.js";
import { describeValue } from "../core/errors.js";
import {
  asHostlibError,
  builtinNotServed,
  errorCode,
  fromZodIssue,
  invalidParams,
  methodNotFound,
  shuttingDown,
  toResponseError,
  unknownBuiltin,
} from "./rpc-errors.js";
import type { HandledMethod, HandlerTable } from "./handlers.js";
import type { ServerMetrics } from "./metrics.js";

/**
 * Every method: its flags, and its params schema, which is built on first use (zod loads only when a precheck leaves a
 * request to it).
 */
const methods = Object.fromEntries(
  methodNames.map((name) => [
    name,
    {
      ...methodIndex[name],
      get params(): z.ZodMiniType {
        return zodSchemas().methods[name].params;
      },
    },
  ]),
) as Record<MethodName, MethodIndexEntry & { readonly params: z.ZodMiniType }>;

/** Params that pass a method's precheck (compiled from its zod schema's plan) skip zod: no copy, no allocation. */
const prechecks = new Map(
  methodNames.map((name) => [
    name,
    compilePlan(methodIndex[name].precheck, (path) => byZod(() => schemaAt(methods[name].params, path))),
  ]),
);

const parameterNames = new Map(methodNames.map((name) => [name, methodIndex[name].parameters]));

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
 * A call an envelope carries: the method, its params, the host/call session it came under and the builtin its errors
 * are worded for.
 */
interface Carried {
  method: HostCallable;
  params: unknown;
  session: string | undefined;
  builtin: string;
}

/**
 * A method an envelope carries, and harn-hostlib's name for it (`hostlib_code_index_<method>`), which its errors name.
 */
interface Target {
  method: HostCallable;
  builtin: string;
}

/**
 * An envelope: its name, the prefix of the names it carries methods by (`hostlib_code_index_lock_try`,
 * `code_index.lock_try`), those names, and its params' precheck.
 */
interface Envelope {
  name: EnvelopeName;
  prefix: string;
  names: Map<string, Target>;
  precheck: Precheck;
}

function envelope(name: EnvelopeName, prefix: string): Envelope {
  const names = new Map(
    hostCallableNames.map((method): [string, Target] => [
      `${prefix}${method}`,
      { method, builtin: `${BUILTIN_PREFIX}${method}` },
    ]),
  );
  return { name, prefix, names, precheck: prechecks.get(name) as Precheck };
}

const BUILTIN_CALL = envelope("builtin_call", BUILTIN_PREFIX);
const HOST_CALL = envelope("host/call", HOST_CALL_PREFIX);

/**
 * Validate a request's params against its method's schema and run its
 * handler (which may answer later, with a promise). Every failure becomes a
 * ResponseError; nothing is changed by a request that fails validation.
 * A Harn host's envelope (builtin_call, host/call) is opened first and the
 * method it carries runs exactly as if it had come bare (the same
 * validation, ownership, handler and result), except that its errors are
 * worded as harn-hostlib's (see asHostlibError). With metrics, each request
 * is counted and timed, under the name of the method it runs.
 */
export function createDispatcher(options: DispatchOptions): Dispatch {
  const run = createRun(options);
  const metrics = options.metrics;
  /** Every method's route, keyed by the table's own name strings (a method name read from a message may be a slice). */
  const routes = new Map<string, Route>(
    methodNames.map((name) => [
      name,
      {
        name,
        handler: options.handlers[name as HandledMethod] as Route["handler"],
        precheck: prechecks.get(name) as Precheck,
        actsAsAgent: "actsAsAgent" in methods[name],
        counter: metrics === undefined ? -1 : metrics.counterOf(name),
      },
    ]),
  );
  const routeOf = (method: string): Route | undefined => routes.get(method);
  const failed = (start: number, error: unknown) => {
    if (metrics !== undefined) {
      metrics.took(start);
      metrics.error(errorCode(error));
    }
    return error;
  };
  return (method, params, token) => {
    const start = metrics === undefined ? 0 : metrics.start();
    let builtin: string | undefined;
    try {
      let result: unknown;
      if (method === "builtin_call" || method === "host/call") {
        let carried: Carried;
        try {
          carried = open(method === "builtin_call" ? BUILTIN_CALL : HOST_CALL, params);
        } catch (error) {
          metrics?.count((routeOf(method) as Route).counter);
          throw error;
        }
        const route = routeOf(carried.method) as Route;
        metrics?.count(route.counter);
        builtin = carried.builtin;
        result = run(route, carried.params, token, carried.session);
      } else {
        const route = routeOf(method);
        if (route === undefined) throw methodNotFound(method);
        metrics?.count(route.counter);
        result = run(route, params, token, undefined);
      }
      if (!(result instanceof Promise)) {
        metrics?.took(start);
        return result;
      }
      return result.then(
        (value: unknown) => {
          metrics?.took(start);
          return value;
        },
        (error: unknown) => {
          throw failed(start, builtin === undefined ? error : asHostlibError(builtin, error));
        },
      );
    } catch (error) {
      throw failed(start, builtin === undefined ? error : asHostlibError(builtin, error));
    }
  };
}

/** A method as the dispatcher runs it: its handler, its params' precheck and its metrics counter. */
interface Route {
  name: MethodName;
  handler: (params: unknown, token: CancellationToken, session: string | undefined) => unknown;
  precheck: Precheck;
  actsAsAgent: boolean;
  counter: number;
}

/**
 * What `envelope` carries, its params checked against the envelope's
 * schema (a failure is worded as harn-hostlib's, for the builtin named if
 * it is served, else for the envelope). A `name` in harn-hostlib's
 * code_index namespace that is not served here is its Unimplemented; any
 * other unknown name, -32601.
 */
function open({ name: envelope, prefix, names, precheck }: Envelope, params: unknown): Carried {
  const raw = params === undefined ? {} : params;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw asHostlibError(
      envelope,
      invalidParams(envelope, "params", `must be an object of named parameters, got ${describeValue(raw)}`),
    );
  }
  const fields = raw as { name?: unknown; args?: unknown; sessionId?: unknown };
  const target = typeof fields.name === "string" ? names.get(fields.name) : undefined;
  if (!precheck(raw)) {
    const parsed = methods[envelope].params.safeParse(raw);
    if (!parsed.success) {
      const error = fromZodIssue(
        envelope,
        parsed.error.issues[0] as z.core.$ZodIssue,
        parameterNames.get(envelope) ?? [],
        raw,
      );
      throw asHostlibError(target?.builtin ?? envelope, error);
    }
  }
  if (target === undefined) {
    const name = fields.name as string;
    if (name.startsWith(prefix))
      throw builtinNotServed(envelope, `${BUILTIN_PREFIX}${name.slice(prefix.length)}`, name);
    throw unknownBuiltin(envelope, name, `${prefix}<method>`);
  }
  const { method, builtin } = target;
  if (envelope === "builtin_call")
    return { method, params: (fields.args as unknown[])[0] ?? {}, session: undefined, builtin };
  return { method, params: fields.args ?? {}, session: fields.sessionId as string | undefined, builtin };
}

/** Runs a route's handler on params it validates first, as the agent it acts as (with ownership). */
function createRun({ isShutDown, log, actAs }: DispatchOptions) {
  return (route: Route, params: unknown, token: CancellationToken, session: string | undefined): unknown => {
    const { name, handler } = route;
    if (isShutDown()) throw shuttingDown(name);
    const raw = params === undefined ? {} : params;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw invalidParams(name, "params", `must be an object of named parameters, got ${describeValue(raw)}`);
    }
    const valid = route.precheck(raw) ? raw : validated(name, raw);
    try {
      const agentId = (valid as { agent_id?: number }).agent_id;
      const result =
        actAs === undefined || !route.actsAsAgent || agentId === 0
          ? handler(valid, token, session)
          : actAs(agentId ?? "new", () => handler(valid, token, session));
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

/** `raw` as the method's zod schema parses it (defaults filled in), or the invalid-params error of its first issue. */
function validated(name: MethodName, raw: object): unknown {
  const parsed = methods[name].params.safeParse(raw);
  if (!parsed.success)
    throw fromZodIssue(name, parsed.error.issues[0] as z.core.$ZodIssue, parameterNames.get(name) ?? [], raw);
  return parsed.data;
}
