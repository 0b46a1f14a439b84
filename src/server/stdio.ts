import { Console } from "node:console";
import { Writable } from "node:stream";
import type { Framing } from "../transport/framing.js";
import { type RuntimeOptions, fatal, log, onStopSignals, openRuntime } from "./runtime.js";
import { startSession } from "./session.js";

/** Options of the stdio server, as the command line gives them. */
export interface StdioServerOptions extends RuntimeOptions {
  framing: Framing | "auto";
  maxMessageBytes: number;
  /** --max-queued-bytes: past it the event subscription is dropped (see startSession). */
  maxQueuedBytes: number;
  clientProcessId?: number;
}

/**
 * Serve one session on stdin/stdout until exit, EOF, SIGTERM, SIGINT,
 * SIGHUP or the client process going away. On a signal it stops reading
 * at once, answers what it received (waiting requests get -32800), writes
 * it (bounded by the reader's progress) and exits 0; a second signal exits
 * at once. With a state directory, everything pending is written before
 * the process exits.
 */
export async function runStdioServer(options: StdioServerOptions): Promise<void> {
  const wire = claimStdout();
  // Taken before anything else, so that a signal during the start stops the process the same way (nothing was read
  // yet).
  const stop = onStopSignals();
  const runtime = await openRuntime(options, log, fatal);
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    runtime.close().then(() => process.exit(code), fatal);
  };
  const session = startSession({
    input: process.stdin,
    output: wire,
    runtime,
    framing: options.framing,
    maxMessageBytes: options.maxMessageBytes,
    maxQueuedBytes: options.maxQueuedBytes,
    exit,
    log,
  });
  stop((signal, again) => {
    if (again) {
      log(`${signal} again: exiting now`);
      exit(0);
    } else session.stop(`${signal}: writing what is pending, then exiting`);
  });
  if (options.clientProcessId !== undefined) watchClient(options.clientProcessId, log, exit);
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
  for (const method of [
    "log",
    "info",
    "debug",
    "trace",
    "dir",
    "dirxml",
    "table",
    "group",
    "groupCollapsed",
    "count",
    "time",
    "timeLog",
    "timeEnd",
  ] as const) {
    (console as unknown as Record<string, unknown>)[method] = (toStderr[method] as (...args: unknown[]) => void).bind(
      toStderr,
    );
  }
  return wire;
}

/** Exit when the client process is gone (the LSP `--clientProcessId` convention). */
function watchClient(pid: number, log: (line: string) => void, exit: (code: number) => void): void {
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EPERM") return;
      log(`client process ${pid} is gone; exiting`);
      exit(0);
    }
  }, 1000);
  timer.unref();
}
