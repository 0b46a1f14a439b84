// The flag table (bin/flags.ts) and the parser made from it, row by row:
// every flag of every command takes `--flag value` as `--flag=value`, is
// checked by its kind, and is refused where it does not apply.
import { describe, expect, it } from "vitest";
import { COMMANDS, type CommandName, FLAGS, type FlagSpec, type Mode, commandOf, flagsOf } from "../../bin/flags.js";
import { type Command, parseArgs } from "../../bin/parse.js";
import { renderHelp, renderSynopsis } from "../../bin/usage.js";
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from "../../src/core/registry.js";

const NAMES = Object.keys(COMMANDS) as CommandName[];
const ROWS: readonly FlagSpec[] = FLAGS;
const SOCKET = "--listen=unix:/tmp/harn-flags.sock";
const BASE: Record<Mode, string[]> = {
  stdio: [],
  socket: [SOCKET],
  connect: ["connect", SOCKET],
  status: ["status", SOCKET],
  demo: ["demo"],
};
const commandOfMode = (mode: Mode): CommandName => (mode === "stdio" || mode === "socket" ? "serve" : mode);

/**
 * Arguments that make `spec` valid in `mode`: the mode's base, without the other flags of its one-of group when `spec`
 * is one of them.
 */
function baseFor(spec: FlagSpec, mode: Mode): string[] {
  const group: readonly string[] = commandOf(commandOfMode(mode)).oneOf?.flags ?? [];
  if (!group.includes(spec.flag)) return BASE[mode];
  return BASE[mode].filter((arg) => !group.some((flag) => arg.startsWith(flag)));
}

function validValue(spec: FlagSpec): string {
  if (spec.kind === "integer") return String(Math.max(spec.min ?? 1, 1) + 6);
  if (spec.kind === "enum") return spec.values?.at(-1) as string;
  if (spec.kind === "address") return "unix:/tmp/harn-flags-2.sock";
  return "some/file";
}

const uses = ROWS.flatMap((spec) =>
  spec.meta === true ? [] : spec.applies.map((mode) => [spec.flag, mode, spec] as const),
);
const valued = uses.filter(([, , spec]) => spec.kind !== "boolean");

const error = (command: Command) => ("error" in command ? command.error : undefined);

describe("the flag table", () => {
  it.each(NAMES)("%s: no flag has two rows", (name) => {
    const flags = flagsOf(name).map((spec) => spec.flag);
    expect(flags.length).toBe(new Set(flags).size);
  });

  it("gives each flag one kind and a default its own parser accepts", () => {
    for (const spec of ROWS) {
      expect(
        ROWS.filter((other) => other.flag === spec.flag).every((other) => other.kind === spec.kind),
        spec.flag,
      ).toBe(true);
      if (spec.kind === "enum") expect(spec.values, spec.flag).toContain(spec.default);
      if (spec.kind === "integer" && spec.default !== undefined)
        expect(spec.default, spec.flag).toBeGreaterThanOrEqual(spec.min ?? 1);
      expect(
        spec.default === undefined || spec.without === undefined,
        `${spec.flag} has a default and words for its absence`,
      ).toBe(true);
    }
  });

  it("takes the registry's defaults from src/core/registry.ts", () => {
    const row = (flag: string) => ROWS.find((spec) => spec.flag === flag && spec.applies.includes("stdio"))?.default;
    expect(row("--lock-ttl-ms")).toBe(DEFAULT_CONFIG.default_lock_ttl_ms);
    expect(row("--agent-timeout-ms")).toBe(DEFAULT_CONFIG.agent_timeout_ms);
    expect(row("--max-agents")).toBe(DEFAULT_LIMITS.maxAgents);
    expect(row("--max-locks-per-agent")).toBe(DEFAULT_LIMITS.maxLocksPerAgent);
  });

  it.each(NAMES)("%s --help is rendered from the table: every flag, lines of 79 columns at most", (name) => {
    const help = parseArgs([...(name === "serve" ? [] : [name]), "--help"]);
    expect(help).toEqual({ help: renderHelp(name) });
    for (const spec of flagsOf(name)) expect(renderHelp(name)).toContain(spec.flag);
    for (const line of [...renderHelp(name).split("\n"), ...renderSynopsis().split("\n")])
      expect(line.length, line).toBeLessThanOrEqual(79);
  });
});

describe("the parser", () => {
  it.each(valued)("%s (%s): --flag value means --flag=value", (flag, mode, spec) => {
    const base = baseFor(spec, mode);
    const joined = parseArgs([...base, `${flag}=${validValue(spec)}`]);
    expect(error(joined)).toBeUndefined();
    expect(parseArgs([...base, flag, validValue(spec)])).toEqual(joined);
  });

  it.each(valued)("%s (%s): without its value → one line, naming it", (flag, mode, spec) => {
    const see = mode === "stdio" || mode === "socket" ? "see --help" : `see ${mode} --help`;
    expect(error(parseArgs([...baseFor(spec, mode), flag]))).toBe(`${flag} needs a value (${see})`);
  });

  it.each(uses.filter(([, , spec]) => spec.kind === "boolean"))(
    "%s (%s): a switch takes no value",
    (flag, mode, spec) => {
      expect(error(parseArgs([...baseFor(spec, mode), flag]))).toBeUndefined();
      expect(error(parseArgs([...baseFor(spec, mode), `${flag}=yes`]))).toMatch(
        new RegExp(`^${flag} takes no value \\(see (\\w+ )?--help\\)$`),
      );
    },
  );

  it.each(uses.filter(([, , spec]) => spec.kind === "integer"))(
    "%s (%s): refuses what is not an integer in range",
    (flag, mode, spec) => {
      const what = spec.min === 0 ? "a non-negative" : "a positive";
      for (const bad of ["-1", "1.5", "x", "", "9007199254740992", ...(spec.min === 0 ? [] : ["0"])]) {
        expect(error(parseArgs([...baseFor(spec, mode), `${flag}=${bad}`]))).toBe(
          `${flag}: must be ${what} integer, got ${JSON.stringify(bad)}`,
        );
      }
    },
  );

  it.each(uses.filter(([, , spec]) => spec.kind === "enum"))(
    "%s (%s): refuses a value not listed",
    (flag, mode, spec) => {
      expect(error(parseArgs([...baseFor(spec, mode), `${flag}=bogus`]))).toMatch(
        new RegExp(`^${flag}: must be .* or .*, got "bogus"$`),
      );
    },
  );

  it.each(
    ROWS.filter(
      (spec) => spec.applies.includes("socket") && !spec.applies.includes("stdio") && spec.flag !== "--listen",
    ),
  )("$flag without --listen is refused", (spec: FlagSpec) => {
    const value = spec.kind === "boolean" ? "" : `=${validValue(spec)}`;
    expect(error(parseArgs([`${spec.flag}${value}`]))).toBe(
      `${spec.flag} needs --listen (it applies to socket connections)`,
    );
  });

  it.each(
    ROWS.filter(
      (spec) => spec.applies.includes("stdio") && !spec.applies.includes("socket") && spec.flag !== "--stdio",
    ),
  )("$flag with --listen is refused", (spec: FlagSpec) => {
    expect(error(parseArgs([SOCKET, `${spec.flag}=${validValue(spec)}`]))).toBe(`${spec.flag} applies to --stdio only`);
  });

  it.each(NAMES)("%s: an unknown flag, or another command's, is refused by name", (name) => {
    const word = name === "serve" ? [] : [name];
    const see = name === "serve" ? "see --help" : `see ${name} --help`;
    expect(error(parseArgs([...word, "--nope=1"]))).toBe(`unknown flag --nope (${see})`);
    const foreign = ROWS.find((spec) => !flagsOf(name).some((own) => own.flag === spec.flag)) as FlagSpec;
    expect(error(parseArgs([...word, `${foreign.flag}=1`]))).toBe(`unknown flag ${foreign.flag} (${see})`);
  });

  it("fills in the defaults, and passes on as config only the values given", () => {
    const plain = parseArgs([]) as unknown as { stdio: Record<string, unknown> };
    expect(plain.stdio).toMatchObject({
      framing: "auto",
      clock: "system",
      config: {},
      limits: DEFAULT_LIMITS,
      maxMessageBytes: 16 * 1024 * 1024,
      timeRequests: true,
    });
    const given = parseArgs(["--lock-ttl-ms", "5", "--no-metrics"]) as unknown as { stdio: Record<string, unknown> };
    expect(given.stdio).toMatchObject({ config: { default_lock_ttl_ms: 5 }, timeRequests: false });
    expect(given.stdio.settings).toContainEqual({
      name: "lock-ttl-ms",
      value: 5,
      source: "flag",
      config: "default_lock_ttl_ms",
    });
    expect(given.stdio.settings).toContainEqual({
      name: "agent-timeout-ms",
      value: DEFAULT_CONFIG.agent_timeout_ms,
      source: "default",
      config: "agent_timeout_ms",
    });
    expect(given.stdio.settings).toContainEqual({ name: "no-metrics", source: "flag" });
  });

  it("builds each command's options", () => {
    expect(
      parseArgs(["--listen", "tcp:127.0.0.1:0", "--auth-token-file", "t", "--keep-agents-on-disconnect"]),
    ).toMatchObject({
      socket: {
        listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
        authTokenFile: "t",
        keepAgentsOnDisconnect: true,
        maxConnections: 256,
        authTimeoutMs: 5000,
      },
    });
    expect(parseArgs(["connect", SOCKET])).toEqual({
      connect: { listen: { kind: "unix", path: "/tmp/harn-flags.sock" } },
    });
    expect(parseArgs(["status", "--listen=tcp:localhost:7", "--auth-token-file=t", "--json"])).toEqual({
      status: { source: { kind: "listen", address: "tcp:localhost:7", authTokenFile: "t" }, json: true, watch: false },
    });
    expect(parseArgs(["status", "--snapshot", "s.json"])).toEqual({
      status: { source: { kind: "snapshot", file: "s.json" }, json: false, watch: false },
    });
    expect(parseArgs(["demo"])).toEqual({ demo: true });
    expect(parseArgs(["status", "-v"])).toEqual({ version: true });
  });

  it("takes a directory or a PostgreSQL URL as --state; status takes only a directory, so far", () => {
    for (const url of ["postgres://u:secret@db:5432/reg", "postgresql://u@db/reg"]) {
      expect(parseArgs([`--state=${url}`])).toMatchObject({ stdio: { statePath: url } });
      expect(error(parseArgs(["status", `--state=${url}`]))).toMatch(/^status --state=URL .* is not supported yet;/);
    }
    expect(parseArgs(["status", "--state=.harn"])).toMatchObject({
      status: { source: { kind: "state", dir: ".harn" } },
    });
  });
});
