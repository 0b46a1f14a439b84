// Every command-line flag, declared once. The parser (parse.ts), every
// --help text and the README's synopsis and flag table (usage.ts, written
// by `npm run gen:readme`, checked by test/readme-drift.test.ts) come from
// these two tables.
import type { RegistryConfig } from "../../protocol/common.js";
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from "../core/registry.js";

/** Where a flag applies: the server's two modes (socket with --listen), then the subcommands. */
export type Mode = "stdio" | "socket" | "connect" | "status" | "demo";

export interface FlagSpec {
  readonly flag: `--${string}`;
  /**
   * boolean: a switch, no value; integer: digits, at least `min` (1 unless said); enum: one of `values`; address:
   * unix:PATH or tcp:HOST:PORT.
   */
  readonly kind: "boolean" | "integer" | "string" | "enum" | "address";
  readonly applies: readonly Mode[];
  /** One plain-text description, for --help and the README. */
  readonly help: string;
  /** More for the README only (Markdown), after `help`. */
  readonly more?: string;
  /** The value's name in usage texts: N, DIR, FILE, ADDR, PID. */
  readonly arg?: string;
  readonly values?: readonly string[];
  readonly min?: number;
  /** The value used without the flag. */
  readonly default?: number | string;
  /** What happens without the flag, when that is not a value. */
  readonly without?: string;
  /** The registry config value the flag sets (these alone can also come from a --state directory). */
  readonly config?: keyof RegistryConfig;
  /** Given only together with this flag. */
  readonly with?: string;
  /** --help and --version: answered before anything else is looked at. */
  readonly meta?: true;
}

const SERVER = ["stdio", "socket"] as const;
export const MODES = ["stdio", "socket", "connect", "status", "demo"] as const;

export const FLAGS = [
  {
    flag: "--stdio",
    kind: "boolean",
    applies: ["stdio"],
    without: "on without --listen",
    help: "serve one client on stdin/stdout",
  },
  {
    flag: "--listen",
    kind: "address",
    arg: "ADDR",
    applies: ["socket"],
    without: "stdio",
    help:
      "serve many clients on one registry: unix:PATH (socket file mode 0600) or tcp:HOST:PORT with HOST " +
      "127.0.0.1, localhost or [::1] (loopback only, needs --auth-token-file; port 0 picks one, logged as listening " +
      "on ...)",
    more: "(see Shared server)",
  },
  {
    flag: "--state",
    kind: "string",
    arg: "DIR|URL",
    applies: SERVER,
    without: "memory only",
    help:
      "keep the state in DIR: every change is journaled and fsynced before its reply, and recovered at start; or in " +
      "PostgreSQL at URL (postgres://USER@HOST:PORT/DB or postgresql://...; its password is never logged), one " +
      "registry for every sidecar started with it",
    more: "(see Durable state); without it nothing touches the disk",
  },
  {
    flag: "--compact-bytes",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: 64 * 1024 * 1024,
    help: "with --state=DIR: write a new snapshot and start a new journal once the journal passes N bytes",
  },
  {
    flag: "--compact-entries",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: 10_000,
    help:
      "with --state=postgres://…: the sidecar that writes every Nth log entry writes a snapshot row and deletes the " +
      "entries before the previous one",
  },
  {
    flag: "--framing",
    kind: "enum",
    values: ["auto", "content-length", "ndjson"],
    applies: SERVER,
    default: "auto",
    help:
      "message framing; auto decides from the first line: a Content-Length or Content-Type header line means " +
      "Content-Length, anything else NDJSON",
    more:
      "(after byte-order marks and blanks; see Framing and transport). Replies use the framing of the request " +
      "stream.",
  },
  {
    flag: "--clock",
    kind: "enum",
    values: ["system", "manual"],
    applies: SERVER,
    default: "system",
    help: "time source; manual starts at 0 and moves only by the clock_set method (deterministic replays and tests)",
  },
  {
    flag: "--lock-ttl-ms",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: DEFAULT_CONFIG.default_lock_ttl_ms,
    config: "default_lock_ttl_ms",
    help: "default lock TTL in ms",
  },
  {
    flag: "--agent-timeout-ms",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: DEFAULT_CONFIG.agent_timeout_ms,
    config: "agent_timeout_ms",
    help: "silence in ms after which an agent crashes and loses its locks",
  },
  {
    flag: "--crash-lock-delay-ms",
    kind: "integer",
    arg: "N",
    min: 0,
    applies: SERVER,
    default: 0,
    help:
      "a path freed because its holder crashed stays unavailable to others this long (Chubby's lock-delay); a " +
      "clean release frees at once",
  },
  {
    flag: "--max-agents",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: DEFAULT_LIMITS.maxAgents,
    help:
      "agent records kept at most; a new agent past it evicts the crashed record seen longest ago, and only when " +
      "every record is a live agent is it refused with quota_exceeded",
  },
  {
    flag: "--max-locks-per-agent",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: DEFAULT_LIMITS.maxLocksPerAgent,
    help: "locks one agent holds at most; past it quota_exceeded",
  },
  {
    flag: "--max-message-bytes",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: 16 * 1024 * 1024,
    help: "larger messages are answered with an error and discarded",
  },
  {
    flag: "--max-queued-bytes",
    kind: "integer",
    arg: "N",
    applies: SERVER,
    default: 16 * 1024 * 1024,
    help:
      "what one connection may have queued for it while it does not read: past it its event subscription is " +
      "dropped (an events/dropped notification says from where to catch up), and a peer that leaves more replies " +
      "than that unread is cut off",
    more: "(see Framing and transport)",
  },
  {
    flag: "--auth-token-file",
    kind: "string",
    arg: "FILE",
    applies: ["socket"],
    without: "none",
    help:
      "the first request of each connection must be initialize {auth_token} with FILE's content (trimmed); " +
      "required for TCP",
  },
  {
    flag: "--max-connections",
    kind: "integer",
    arg: "N",
    applies: ["socket"],
    default: 256,
    help: "connections served at once; as many more may wait to be admitted, apart from them",
    more:
      "(see Shared server); a waiting one's request while every slot is taken gets `quota_exceeded` and it is " +
      "closed",
  },
  {
    flag: "--auth-timeout-ms",
    kind: "integer",
    arg: "N",
    applies: ["socket"],
    default: 5000,
    help:
      "a connection not admitted within N ms (TCP: not authenticated; past --max-connections: no slot came free) " +
      "is closed",
  },
  {
    flag: "--keep-agents-on-disconnect",
    kind: "boolean",
    applies: SERVER,
    without: "off: they crash at once, locks freed",
    help:
      "a closed connection's agents (with --state=postgres://…, those of a sidecar that ends or dies) stay until " +
      "they time out",
  },
  {
    flag: "--no-metrics",
    kind: "boolean",
    applies: SERVER,
    without: "off: counted and timed",
    help:
      "do not count and time requests (the metrics method still reports the registry's counters; this exists to " +
      "measure what timing costs)",
  },
  {
    flag: "--clientProcessId",
    kind: "integer",
    arg: "PID",
    applies: ["stdio"],
    without: "none",
    help: "exit when process PID is gone (LSP convention)",
  },
  {
    flag: "--listen",
    kind: "address",
    arg: "ADDR",
    applies: ["connect", "status"],
    help: "a running server: unix:PATH or tcp:127.0.0.1:PORT",
  },
  {
    flag: "--auth-token-file",
    kind: "string",
    arg: "FILE",
    applies: ["connect", "status"],
    with: "--listen",
    without: "none",
    help: "the server's token (TCP servers), sent as initialize {auth_token}",
  },
  {
    flag: "--state",
    kind: "string",
    arg: "DIR",
    applies: ["status"],
    help: "a --state directory, read without taking its lock (not yet a PostgreSQL URL)",
  },
  {
    flag: "--snapshot",
    kind: "string",
    arg: "FILE",
    applies: ["status"],
    help: "a snapshot file: ours, a state.json, or harn-hostlib's snapshot.json",
  },
  { flag: "--json", kind: "boolean", applies: ["status"], without: "tables", help: "print JSON instead of tables" },
  {
    flag: "--watch",
    kind: "boolean",
    applies: ["status"],
    without: "print once",
    help:
      "redraw on every event (--listen) or change to the directory (--state) until Ctrl-C; exit 1 if the server " +
      "goes away",
  },
  { flag: "--version", kind: "boolean", applies: MODES, meta: true, help: "print the version and exit" },
  { flag: "--help", kind: "boolean", applies: MODES, meta: true, help: "print this help and exit" },
] as const satisfies readonly FlagSpec[];

export type FlagName = (typeof FLAGS)[number]["flag"];

export interface CommandSpec {
  /** The word after `harn-registry`; none for the server. */
  readonly word?: string;
  readonly modes: readonly Mode[];
  /** Flags of which at most one (exactly one when required) is given. */
  readonly oneOf?: { readonly flags: readonly FlagName[]; readonly required: boolean };
  readonly about: string;
}

export const COMMANDS = {
  serve: {
    modes: SERVER,
    oneOf: { flags: ["--stdio", "--listen"], required: false },
    about:
      "A JSON-RPC 2.0 sidecar keeping the agent registry, advisory file locks and version log of a Harn workspace. " +
      "Speaks on stdin/stdout (or a socket with --listen); logs go to stderr. A --state directory keeps the lock " +
      "TTL and agent timeout it had unless a flag sets them; the start logs each value in force and where it came " +
      "from.",
  },
  connect: {
    word: "connect",
    modes: ["connect"],
    oneOf: { flags: ["--listen"], required: true },
    about:
      "Bridge stdin/stdout to a running harn-registry server, so a host that can only spawn a child joins a shared " +
      "registry.",
  },
  status: {
    word: "status",
    modes: ["status"],
    oneOf: { flags: ["--listen", "--state", "--snapshot"], required: true },
    about:
      "Show who holds what: the config in force, every agent (id, name, state, last seen, edits, locks) and every " +
      "lock (path, mode, holder, fence, expires in), from exactly one source. Colour on a terminal only (and not " +
      "with NO_COLOR); plain text when piped.",
  },
  demo: {
    word: "demo",
    modes: ["demo"],
    about:
      "Play a short multi-agent story against a sidecar run inside this process (no child process, no socket: the " +
      "typed client talks to it over in-memory streams; in memory, on a manual clock): two agents contend for a " +
      "file, one waits and is granted on release, a directory lock blocks its files, a paused writer is refused by " +
      "its stale fence, a silent agent's locks are freed. Each step is printed as a timeline.",
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** One command's row, as a CommandSpec. */
export function commandOf(name: CommandName): CommandSpec {
  return COMMANDS[name];
}

/** The rows of one command, in table order. */
export function flagsOf(command: CommandName): readonly FlagSpec[] {
  const { modes } = commandOf(command);
  return FLAGS.filter((spec: FlagSpec) => spec.applies.some((mode) => modes.includes(mode)));
}
