import type { StdioServerOptions } from "../src/server/stdio.js";

/** What the command line asks for. */
export type Command = { run: StdioServerOptions } | { help: true } | { version: true } | { error: string };

export const USAGE = `Usage: harn-registry [--stdio] [options]

A JSON-RPC 2.0 sidecar keeping the agent registry, advisory file locks and
version log of a Harn workspace. Speaks on stdin/stdout; logs go to stderr.

Options (defaults in brackets):
  --stdio                      serve on stdin/stdout [the only transport]
  --framing=auto|content-length|ndjson
                               message framing [auto: a first byte of { or [
                               means NDJSON, anything else Content-Length]
  --clock=system|manual        time source [system]; manual starts at 0 and
                               moves only by the clock_set method
  --lock-ttl-ms=N              default lock TTL in ms [30000]
  --agent-timeout-ms=N         silence after which an agent crashes [45000]
  --max-message-bytes=N        larger messages are discarded [16777216]
  --crash-lock-delay-ms=N      a crashed holder's paths stay unavailable to
                               others this long (Chubby's lock-delay) [0]
  --clientProcessId=PID        exit when process PID is gone
  --version                    print the version and exit
  --help                       print this help and exit`;

const DEFAULTS: StdioServerOptions = { framing: "auto", clock: "system", config: {}, maxMessageBytes: 16 * 1024 * 1024, crashLockDelayMs: 0 };

/** Parse `--flag=value` / `--flag value` arguments; the first bad one is reported by name. */
export function parseFlags(argv: readonly string[]): Command {
  const options: StdioServerOptions = { ...DEFAULTS, config: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { help: true };
    if (arg === "--version" || arg === "-v") return { version: true };
    if (arg === "--stdio") continue;
    const match = /^(--[A-Za-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) return { error: `unexpected argument ${JSON.stringify(arg)} (see --help)` };
    const flag = match[1] as string;
    let value = match[2];
    const needsValue = ["--framing", "--clock", "--lock-ttl-ms", "--agent-timeout-ms", "--max-message-bytes", "--crash-lock-delay-ms", "--clientProcessId"];
    if (!needsValue.includes(flag)) return { error: `unknown flag ${flag} (see --help)` };
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) return { error: `${flag} needs a value (see --help)` };
      i++;
    }
    const problem = apply(options, flag, value);
    if (problem !== undefined) return { error: `${flag}: ${problem}` };
  }
  return { run: options };
}

function apply(options: StdioServerOptions, flag: string, value: string): string | undefined {
  switch (flag) {
    case "--framing":
      if (value !== "auto" && value !== "content-length" && value !== "ndjson") return `must be auto, content-length or ndjson, got ${JSON.stringify(value)}`;
      options.framing = value;
      return undefined;
    case "--clock":
      if (value !== "system" && value !== "manual") return `must be system or manual, got ${JSON.stringify(value)}`;
      options.clock = value;
      return undefined;
    case "--crash-lock-delay-ms": {
      const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n)) return `must be a non-negative integer, got ${JSON.stringify(value)}`;
      options.crashLockDelayMs = n;
      return undefined;
    }
    default: {
      const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < 1) return `must be a positive integer, got ${JSON.stringify(value)}`;
      if (flag === "--lock-ttl-ms") options.config.default_lock_ttl_ms = n;
      else if (flag === "--agent-timeout-ms") options.config.agent_timeout_ms = n;
      else if (flag === "--max-message-bytes") options.maxMessageBytes = n;
      else options.clientProcessId = n;
      return undefined;
    }
  }
}
