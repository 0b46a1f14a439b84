import { DEFAULT_LIMITS } from "../src/core/registry.js";
import type { StatusOptions, StatusSource } from "../src/cli/status.js";
import type { ConnectOptions } from "../src/transport/connect-bridge.js";
import { parseListenAddress } from "../src/transport/listen-address.js";
import type { SocketServerOptions } from "../src/server/socket.js";
import type { StdioServerOptions } from "../src/server/stdio.js";

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

export const USAGE = `Usage: harn-registry [--stdio | --listen=ADDR] [options]
       harn-registry connect --listen=ADDR [--auth-token-file=FILE]
       harn-registry status (--listen=ADDR | --state=DIR | --snapshot=FILE) [--json] [--watch]
       harn-registry demo

A JSON-RPC 2.0 sidecar keeping the agent registry, advisory file locks and
version log of a Harn workspace. Speaks on stdin/stdout (or a socket with
--listen); logs go to stderr.

Options (defaults in brackets):
  --stdio                      serve one client on stdin/stdout [the default]
  --listen=ADDR                serve many clients on one registry: unix:PATH
                               (mode 0600) or tcp:127.0.0.1:PORT (loopback
                               only; needs --auth-token-file)
  --state=DIR                  keep the state in DIR: every change is
                               journaled and fsynced before its reply, and
                               recovered at start [memory only]
  --compact-bytes=N            write a new snapshot once the journal passes
                               N bytes [67108864]
  --framing=auto|content-length|ndjson
                               message framing [auto: a first byte of { or [
                               means NDJSON, anything else Content-Length]
  --clock=system|manual        time source [system]; manual starts at 0 and
                               moves only by the clock_set method
  --lock-ttl-ms=N              default lock TTL in ms [30000]
  --agent-timeout-ms=N         silence after which an agent crashes [45000]
  --crash-lock-delay-ms=N      a crashed holder's paths stay unavailable to
                               others this long (Chubby's lock-delay) [0]
  --max-agents=N               agent records kept at most [${DEFAULT_LIMITS.maxAgents}]
  --max-locks-per-agent=N      locks one agent holds at most [${DEFAULT_LIMITS.maxLocksPerAgent}]
  --max-message-bytes=N        larger messages are discarded [16777216]
  --auth-token-file=FILE       the first request of each connection must be
                               initialize {auth_token: <FILE's content>}
  --max-connections=N          socket connections served at once; as many
                               more may wait to be admitted [256]
  --auth-timeout-ms=N          a socket connection not admitted (TCP: not
                               authenticated; past --max-connections: no
                               slot came free) within N ms is closed [5000]
  --keep-agents-on-disconnect  a closed connection's agents stay until they
                               time out [they crash at once, locks freed]
  --no-metrics                 do not count and time requests (the metrics
                               method still reports the registry's counters;
                               this exists to measure what timing costs)
  --clientProcessId=PID        exit when process PID is gone (stdio only)
  --version                    print the version and exit
  --help                       print this help and exit`;

export const CONNECT_USAGE = `Usage: harn-registry connect --listen=ADDR [--auth-token-file=FILE]

Bridge stdin/stdout to a running harn-registry server, so a host that can
only spawn a child joins a shared registry.

Options:
  --listen=ADDR                the server: unix:PATH or tcp:127.0.0.1:PORT
  --auth-token-file=FILE       authenticate with FILE's token (TCP servers)
  --help                       print this help and exit`;

export const STATUS_USAGE = `Usage: harn-registry status (--listen=ADDR | --state=DIR | --snapshot=FILE) [--json] [--watch]

Show who holds what: every agent (id, name, state, last seen, edits, locks)
and every lock (path, mode, holder, fence, expires in). Colour on a
terminal only (and not with NO_COLOR); plain text when piped.

Options (exactly one source):
  --listen=ADDR                a running server: unix:PATH or tcp:127.0.0.1:PORT
  --auth-token-file=FILE       the server's token (TCP servers)
  --state=DIR                  a --state directory, read without taking its lock
  --snapshot=FILE              a snapshot file (ours, a state.json, or
                               harn-hostlib's snapshot.json)
  --json                       print JSON instead of tables [tables]
  --watch                      redraw on every event (--listen) or change to
                               the directory (--state) until Ctrl-C [print once]
  --help                       print this help and exit`;

export const DEMO_USAGE = `Usage: harn-registry demo

Play a short multi-agent story against a sidecar started in this process
(in memory, on a manual clock): two agents contend for a file, one waits
and is granted on release, a directory lock blocks its files, a paused
writer is refused by its stale fence, a silent agent's locks are freed.
Each step is printed as a timeline. No options besides --help.`;

interface Parsed {
  stdio: boolean;
  values: Map<string, string>;
}

const SERVE_FLAGS = [
  "--listen",
  "--state",
  "--compact-bytes",
  "--framing",
  "--clock",
  "--lock-ttl-ms",
  "--agent-timeout-ms",
  "--crash-lock-delay-ms",
  "--max-agents",
  "--max-locks-per-agent",
  "--max-message-bytes",
  "--auth-token-file",
  "--max-connections",
  "--auth-timeout-ms",
  "--clientProcessId",
];
const SOCKET_ONLY = ["--auth-token-file", "--max-connections", "--auth-timeout-ms", "--keep-agents-on-disconnect"];

/** Parse the arguments; the first bad one is reported by name, on one line. */
export function parseFlags(argv: readonly string[]): Command {
  if (argv[0] === "connect") return parseConnect(argv.slice(1));
  if (argv[0] === "status") return parseStatus(argv.slice(1));
  if (argv[0] === "demo") {
    const parsed = scan(argv.slice(1), [], []);
    if (!("values" in parsed)) return "help" in parsed ? { help: DEMO_USAGE } : parsed;
    return { demo: true };
  }
  const parsed = scan(argv, SERVE_FLAGS, ["--stdio", "--keep-agents-on-disconnect", "--no-metrics"]);
  if (!("values" in parsed)) return "help" in parsed ? { help: USAGE } : parsed;
  const { values, stdio } = parsed;
  const number = (flag: string, fallback: number, min = 1): number | string => {
    const raw = values.get(flag);
    if (raw === undefined) return fallback;
    const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
    return Number.isSafeInteger(n) && n >= min ? n : `${flag}: must be ${min === 0 ? "a non-negative" : "a positive"} integer, got ${JSON.stringify(raw)}`;
  };
  const framing = values.get("--framing") ?? "auto";
  if (framing !== "auto" && framing !== "content-length" && framing !== "ndjson") return { error: `--framing: must be auto, content-length or ndjson, got ${JSON.stringify(framing)}` };
  const clock = values.get("--clock") ?? "system";
  if (clock !== "system" && clock !== "manual") return { error: `--clock: must be system or manual, got ${JSON.stringify(clock)}` };
  const numbers = {
    lockTtl: number("--lock-ttl-ms", 0),
    agentTimeout: number("--agent-timeout-ms", 0),
    crashLockDelayMs: number("--crash-lock-delay-ms", 0, 0),
    maxAgents: number("--max-agents", DEFAULT_LIMITS.maxAgents),
    maxLocksPerAgent: number("--max-locks-per-agent", DEFAULT_LIMITS.maxLocksPerAgent),
    maxMessageBytes: number("--max-message-bytes", 16 * 1024 * 1024),
    compactBytes: number("--compact-bytes", 64 * 1024 * 1024),
    maxConnections: number("--max-connections", 256),
    authTimeoutMs: number("--auth-timeout-ms", 5000),
    clientProcessId: number("--clientProcessId", 0),
  };
  const problem = Object.values(numbers).find((value) => typeof value === "string");
  if (problem !== undefined) return { error: problem };
  const n = numbers as { [K in keyof typeof numbers]: number };
  const host = {
    framing,
    clock,
    config: { ...(n.lockTtl > 0 && { default_lock_ttl_ms: n.lockTtl }), ...(n.agentTimeout > 0 && { agent_timeout_ms: n.agentTimeout }) },
    crashLockDelayMs: n.crashLockDelayMs,
    limits: { maxAgents: n.maxAgents, maxLocksPerAgent: n.maxLocksPerAgent },
    maxMessageBytes: n.maxMessageBytes,
    compactBytes: n.compactBytes,
    timeRequests: !values.has("--no-metrics"),
    ...(values.has("--state") && { statePath: values.get("--state") as string }),
  } as const;
  const listenSpec = values.get("--listen");
  if (listenSpec === undefined) {
    const socketFlag = SOCKET_ONLY.find((flag) => values.has(flag));
    if (socketFlag !== undefined) return { error: `${socketFlag} needs --listen (it applies to socket connections)` };
    return { stdio: { ...host, ...(n.clientProcessId > 0 && { clientProcessId: n.clientProcessId }) } };
  }
  if (stdio) return { error: "--stdio and --listen exclude each other; pick one" };
  if (values.has("--clientProcessId")) return { error: "--clientProcessId applies to --stdio only" };
  const listen = parseListenAddress(listenSpec);
  if (typeof listen === "string") return { error: `--listen: ${listen}` };
  const authTokenFile = values.get("--auth-token-file");
  if (listen.kind === "tcp" && authTokenFile === undefined) return { error: "--listen=tcp:... needs --auth-token-file=FILE (a file holding a secret token)" };
  return {
    socket: {
      ...host,
      listen,
      keepAgentsOnDisconnect: values.has("--keep-agents-on-disconnect"),
      maxConnections: n.maxConnections,
      authTimeoutMs: n.authTimeoutMs,
      ...(authTokenFile !== undefined && { authTokenFile }),
    },
  };
}

function parseConnect(argv: readonly string[]): Command {
  const parsed = scan(argv, ["--listen", "--auth-token-file"], []);
  if (!("values" in parsed)) return "help" in parsed ? { help: CONNECT_USAGE } : parsed;
  const spec = parsed.values.get("--listen");
  if (spec === undefined) return { error: "connect needs --listen=ADDR (unix:PATH or tcp:127.0.0.1:PORT)" };
  const listen = parseListenAddress(spec);
  if (typeof listen === "string") return { error: `--listen: ${listen}` };
  const authTokenFile = parsed.values.get("--auth-token-file");
  return { connect: { listen, ...(authTokenFile !== undefined && { authTokenFile }) } };
}

function parseStatus(argv: readonly string[]): Command {
  const parsed = scan(argv, ["--listen", "--auth-token-file", "--state", "--snapshot"], ["--json", "--watch"]);
  if (!("values" in parsed)) return "help" in parsed ? { help: STATUS_USAGE } : parsed;
  const { values } = parsed;
  const given = ["--listen", "--state", "--snapshot"].filter((flag) => values.has(flag));
  if (given.length !== 1) return { error: `status needs exactly one of --listen, --state or --snapshot${given.length > 1 ? `, got ${given.join(" and ")}` : ""} (see status --help)` };
  let source: StatusSource;
  if (values.has("--listen")) {
    const spec = values.get("--listen") as string;
    const listen = parseListenAddress(spec);
    if (typeof listen === "string") return { error: `--listen: ${listen}` };
    const authTokenFile = values.get("--auth-token-file");
    source = { kind: "listen", address: spec, ...(authTokenFile !== undefined && { authTokenFile }) };
  } else if (values.has("--auth-token-file")) {
    return { error: "--auth-token-file goes with --listen (see status --help)" };
  } else if (values.has("--state")) {
    source = { kind: "state", dir: values.get("--state") as string };
  } else {
    if (values.has("--watch")) return { error: "--watch needs --listen or --state (a snapshot file does not change; see status --help)" };
    source = { kind: "snapshot", file: values.get("--snapshot") as string };
  }
  return { status: { source, json: values.has("--json"), watch: values.has("--watch") } };
}

/** `--flag=value`, `--flag value` and bare switches; unknown flags and stray words are errors. */
function scan(argv: readonly string[], valued: readonly string[], switches: readonly string[]): Parsed | { help: true } | { version: true } | { error: string } {
  const values = new Map<string, string>();
  let stdio = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { help: true };
    if (arg === "--version" || arg === "-v") return { version: true };
    const match = /^(--[A-Za-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) return { error: `unexpected argument ${JSON.stringify(arg)} (see --help)` };
    const flag = match[1] as string;
    if (switches.includes(flag)) {
      if (match[2] !== undefined) return { error: `${flag} takes no value (see --help)` };
      if (flag === "--stdio") stdio = true;
      else values.set(flag, "");
      continue;
    }
    if (!valued.includes(flag)) return { error: `unknown flag ${flag} (see --help)` };
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) return { error: `${flag} needs a value (see --help)` };
      i++;
    }
    values.set(flag, value);
  }
  return { stdio, values };
}
