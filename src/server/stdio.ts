import { Console } from "node:console";
import { Writable } from "node:stream";
import type { RegistryConfig } from "../../protocol/common.js";
import { Registry } from "../core/registry.js";
import { manualClock, systemClock } from "./clock.js";
import { startDeadlineTimer } from "./deadline-timer.js";
import type { Framing } from "./framing.js";
import { startSession } from "./session.js";

/** Options of the stdio server, as the command line gives them. */
export interface StdioServerOptions {
  framing: Framing | "auto";
  clock: "system" | "manual";
  config: Partial<RegistryConfig>;
  maxMessageBytes: number;
  /** A path freed because its holder crashed stays unavailable to others this long. */
  crashLockDelayMs: number;
  clientProcessId?: number;
}

/** Serve one session on stdin/stdout until exit, EOF or the client process going away. */
export function runStdioServer(options: StdioServerOptions): void {
  const wire = claimStdout();
  const log = (line: string) => process.stderr.write(`harn-registry: ${line}\n`);
  const clock = options.clock === "manual" ? manualClock() : systemClock();
  const registry = new Registry({ now: clock.now, config: options.config, crashLockDelayMs: options.crashLockDelayMs });
  const deadlines = clock.kind === "system" ? startDeadlineTimer(registry, clock.now) : undefined;
  startSession({
    input: process.stdin,
    output: wire,
    registry,
    clock,
    framing: options.framing,
    maxMessageBytes: options.maxMessageBytes,
    exit: (code) => process.exit(code),
    afterRequest: deadlines?.rearm,
    log,
  });
  if (options.clientProcessId !== undefined) watchClient(options.clientProcessId, log);
}

/**
 * stdout is the wire: hand the real stdout to the protocol writer and send
 * everything else that would reach it (console.*, stray process.stdout
 * writes from any module) to stderr.
 */
function claimStdout(): Writable {
  const stdout = process.stdout;
  const writeToStdout = stdout.write.bind(stdout);
  const wire = new Writable({
    decodeStrings: false,
    highWaterMark: 1024 * 1024,
    write(chunk: string | Buffer, _encoding, callback) {
      writeToStdout(chunk, (error) => callback(error ?? null));
    },
  });
  stdout.on("error", (error) => wire.destroy(error));
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  const toStderr = new Console({ stdout: process.stderr, stderr: process.stderr });
  for (const method of ["log", "info", "debug", "trace", "dir", "dirxml", "table", "group", "groupCollapsed", "count", "time", "timeLog", "timeEnd"] as const) {
    (console as unknown as Record<string, unknown>)[method] = (toStderr[method] as (...args: unknown[]) => void).bind(toStderr);
  }
  return wire;
}

/** Exit when the client process is gone (the LSP `--clientProcessId` convention). */
function watchClient(pid: number, log: (line: string) => void): void {
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EPERM") return;
      log(`client process ${pid} is gone; exiting`);
      process.exit(0);
    }
  }, 1000);
  timer.unref();
}
