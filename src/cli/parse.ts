import type { StatusOptions, StatusSource } from "./status.js";
import type { ConnectOptions } from "../transport/connect-bridge.js";
import type { RuntimeSetting } from "../server/runtime.js";
import type { SocketServerOptions } from "../server/socket.js";
import { isPostgresUrl } from "../server/state-url.js";
import type { StdioServerOptions } from "../server/stdio.js";
import { type ListenAddress, formatListenAddress, parseListenAddress } from "../transport/listen-address.js";
import { COMMANDS, type CommandName, type FlagName, type FlagSpec, commandOf, flagsOf } from "./flags.js";
import { flagLabel, renderHelp } from "./usage.js";

/** What the command line asks for. */
export type Command =
  | { stdio: StdioServerOptions }
  | { socket: SocketServerOptions }
  | { connect: ConnectOptions }
  | { status: StatusOptions }
  | { demo: true }
  | { help: string }
  | { version: true }
  | { error: string };

type Value = number | string | true | ListenAddress;

/** The flags given, each with its row and parsed value, in the order given (a repeated flag: the last value). */
class Given {
  constructor(
    private readonly rows: readonly FlagSpec[],
    readonly values: Map<string, { spec: FlagSpec; value: Value }>,
  ) {}

  has(flag: FlagName): boolean {
    return this.values.has(flag);
  }

  /** An integer or enum flag's value: the one given, else its default. */
  get(flag: FlagName): number | string {
    const value = this.values.get(flag)?.value ?? this.rows.find((spec) => spec.flag === flag)?.default;
    if (typeof value !== "number" && typeof value !== "string") throw new Error(`${flag} has no default`);
    return value;
  }

  number(flag: FlagName): number {
    return this.get(flag) as number;
  }

  string(flag: FlagName): string | undefined {
    return this.values.get(flag)?.value as string | undefined;
  }

  address(flag: FlagName): ListenAddress | undefined {
    return this.values.get(flag)?.value as ListenAddress | undefined;
  }
}

/** Parse the arguments; the first bad one is reported by name, on one line. */
export function parseArgs(argv: readonly string[]): Command {
  const name = (Object.keys(COMMANDS) as CommandName[]).find((each) => commandOf(each).word === argv[0]) ?? "serve";
  const see = name === "serve" ? "see --help" : `see ${name} --help`;
  const scanned = scan(name === "serve" ? argv : argv.slice(1), flagsOf(name), see);
  if (scanned === "--help") return { help: renderHelp(name) };
  if (scanned === "--version") return { version: true };
  if (typeof scanned === "string") return { error: scanned };
  const problem = checkCombination(name, scanned, see);
  if (problem !== undefined) return { error: problem };
  switch (name) {
    case "serve":
      return server(scanned);
    case "connect":
      return {
        connect: {
          listen: scanned.address("--listen") as ListenAddress,
          ...optional("authTokenFile", scanned.string("--auth-token-file")),
        },
      };
    case "status":
      return status(scanned);
    case "demo":
      return { demo: true };
  }
}

/**
 * `--flag=value`, `--flag value` and bare switches, each value checked by its kind; unknown flags and stray words are
 * errors.
 */
function scan(
  argv: readonly string[],
  rows: readonly FlagSpec[],
  see: string,
): Given | "--help" | "--version" | string {
  const values = new Map<string, { spec: FlagSpec; value: Value }>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^(--[A-Za-z-]+)(?:=(.*))?$/s.exec(arg) ?? /^-([hv])$/.exec(arg);
    if (match === null) return `unexpected argument ${JSON.stringify(arg)} (${see})`;
    const flag = match[1] === "h" ? "--help" : match[1] === "v" ? "--version" : (match[1] as string);
    const spec = rows.find((row) => row.flag === flag);
    if (spec === undefined) return `unknown flag ${flag} (${see})`;
    if (spec.meta === true) return flag as "--help" | "--version";
    if (spec.kind === "boolean") {
      if (match[2] !== undefined) return `${flag} takes no value (${see})`;
      values.set(flag, { spec, value: true });
      continue;
    }
    let raw = match[2];
    if (raw === undefined) {
      raw = argv[i + 1];
      if (raw === undefined || raw.startsWith("--")) return `${flag} needs a value (${see})`;
      i++;
    }
    const value = parseValue(spec, raw);
    if (typeof value === "object" && "problem" in value) return `${flag}: ${value.problem}`;
    values.set(flag, { spec, value });
  }
  return new Given(rows, values);
}

function parseValue(spec: FlagSpec, raw: string): Value | { problem: string } {
  switch (spec.kind) {
    case "integer": {
      const min = spec.min ?? 1;
      const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
      return Number.isSafeInteger(n) && n >= min
        ? n
        : { problem: `must be ${min === 0 ? "a non-negative" : "a positive"} integer, got ${JSON.stringify(raw)}` };
    }
    case "enum":
      return spec.values?.includes(raw) === true
        ? raw
        : { problem: `must be ${either(spec.values ?? [])}, got ${JSON.stringify(raw)}` };
    case "address": {
      const address = parseListenAddress(raw);
      return typeof address === "string" ? { problem: address } : address;
    }
    default:
      return raw;
  }
}

/** "a", "a or b", "a, b or c". */
export function either(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** The rules between flags: one of a group, a flag that goes with another, a flag of the other server mode. */
function checkCombination(name: CommandName, given: Given, see: string): string | undefined {
  const { oneOf } = commandOf(name);
  if (oneOf !== undefined) {
    const chosen = oneOf.flags.filter((flag) => given.has(flag));
    const only = flagsOf(name).find((spec) => spec.flag === oneOf.flags[0]);
    const needs =
      oneOf.flags.length === 1 && only !== undefined
        ? `${name} needs ${flagLabel(only)}`
        : `${name} needs exactly one of ${either(oneOf.flags)}`;
    if (chosen.length > 1)
      return oneOf.required
        ? `${needs}, got ${chosen.join(" and ")} (${see})`
        : `${chosen.join(" and ")} exclude each other; pick one`;
    if (chosen.length === 0 && oneOf.required) return `${needs} (${see})`;
  }
  for (const [flag, { spec }] of given.values) {
    if (spec.with !== undefined && !given.has(spec.with as FlagName)) return `${flag} goes with ${spec.with} (${see})`;
  }
  if (name === "serve") {
    const mode = given.has("--listen") ? "socket" : "stdio";
    for (const [flag, { spec }] of given.values) {
      if (!spec.applies.includes(mode))
        return mode === "stdio"
          ? `${flag} needs --listen (it applies to socket connections)`
          : `${flag} applies to --stdio only`;
    }
    const listen = given.address("--listen");
    if (listen?.kind === "tcp" && !given.has("--auth-token-file"))
      return "--listen=tcp:... needs --auth-token-file=FILE (a file holding a secret token)";
  }
  if (name === "status" && given.has("--watch") && given.has("--snapshot"))
    return `--watch needs --listen or --state (a snapshot file does not change; ${see})`;
  return undefined;
}

function server(given: Given): Command {
  const listen = given.address("--listen");
  const mode = listen === undefined ? "stdio" : "socket";
  const settings: RuntimeSetting[] = [];
  for (const spec of flagsOf("serve")) {
    const flag = spec.flag as FlagName;
    if (!spec.applies.includes(mode)) continue;
    if (spec.default !== undefined)
      settings.push({
        name: flag.slice(2),
        value: given.get(flag),
        source: given.has(flag) ? "flag" : "default",
        ...optional("config", spec.config),
      });
    else if (spec.kind === "boolean" && flag !== "--stdio" && given.has(flag))
      settings.push({ name: flag.slice(2), source: "flag" });
  }
  // The registry config first: the values a --state directory can keep.
  settings.sort((a, b) => Number(b.config !== undefined) - Number(a.config !== undefined));
  const config = Object.fromEntries(
    settings.filter((s) => s.config !== undefined && s.source === "flag").map((s) => [s.config, s.value]),
  );
  const host = {
    framing: given.get("--framing") as StdioServerOptions["framing"],
    clock: given.get("--clock") as StdioServerOptions["clock"],
    config,
    crashLockDelayMs: given.number("--crash-lock-delay-ms"),
    limits: { maxAgents: given.number("--max-agents"), maxLocksPerAgent: given.number("--max-locks-per-agent") },
    maxMessageBytes: given.number("--max-message-bytes"),
    maxQueuedBytes: given.number("--max-queued-bytes"),
    compactBytes: given.number("--compact-bytes"),
    compactEntries: given.number("--compact-entries"),
    keepAgents: given.has("--keep-agents-on-disconnect"),
    timeRequests: !given.has("--no-metrics"),
    settings,
    ...optional("statePath", given.string("--state")),
  };
  if (listen === undefined) {
    const pid = given.has("--clientProcessId") ? given.number("--clientProcessId") : undefined;
    return { stdio: { ...host, ...optional("clientProcessId", pid) } };
  }
  return {
    socket: {
      ...host,
      listen,
      keepAgentsOnDisconnect: given.has("--keep-agents-on-disconnect"),
      maxConnections: given.number("--max-connections"),
      authTimeoutMs: given.number("--auth-timeout-ms"),
      ...optional("authTokenFile", given.string("--auth-token-file")),
    },
  };
}

function status(given: Given): Command {
  const state = given.string("--state");
  const snapshot = given.string("--snapshot");
  let source: StatusSource;
  if (state !== undefined && isPostgresUrl(state))
    return {
      error:
        "status --state=URL (PostgreSQL state) is not supported yet; ask a sidecar that serves it and listens: " +
        "status --listen=ADDR",
    };
  if (state !== undefined) source = { kind: "state", dir: state };
  else if (snapshot !== undefined) source = { kind: "snapshot", file: snapshot };
  else
    source = {
      kind: "listen",
      address: formatListenAddress(given.address("--listen") as ListenAddress),
      ...optional("authTokenFile", given.string("--auth-token-file")),
    };
  return { status: { source, json: given.has("--json"), watch: given.has("--watch") } };
}

/** `{key: value}`, or nothing when the value is undefined (exactOptionalPropertyTypes-safe spreading). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
