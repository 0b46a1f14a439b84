import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type RegistryClient, openClient } from "./client.js";

/** Options of {@link spawnSidecar}. */
export interface SpawnOptions {
  /** Extra command-line flags, e.g. `["--clock=manual"]`. */
  args?: string[];
  /** What to do with the sidecar's stderr (its log). Default: inherit. */
  stderr?: "inherit" | "pipe" | "ignore";
}

/** A running sidecar and its client. */
export interface Sidecar {
  client: RegistryClient;
  child: ChildProcess;
  /** Resolves once the child has exited: its code, or null when a signal ended it. */
  exited: Promise<number | null>;
  /**
   * `shutdown`, then `exit`; resolves with the exit code (null when a signal
   * ended it). Idempotent; settles also when the sidecar is already gone.
   */
  close(): Promise<number | null>;
}

/**
 * Spawn the sidecar as a child process and connect a typed client to it.
 * When the child exits, every pending request rejects with a
 * RegistryClosedError saying how (code or signal).
 */
export function spawnSidecar(options: SpawnOptions = {}): Sidecar {
  const child = spawn(process.execPath, [sidecarBin(), ...(options.args ?? [])], {
    stdio: ["pipe", "pipe", options.stderr ?? "inherit"],
  });
  const { client, end } = openClient(child.stdout as Readable, child.stdin as Writable, "the sidecar", false);
  child.stdin?.on("error", () => {});
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => {
      end(signal === null ? `the sidecar exited with code ${code}` : `the sidecar was killed by ${signal}`);
      resolve(code);
    });
    child.once("error", (error) => {
      end(`the sidecar could not be started: ${error.message}`);
      resolve(null);
    });
  });
  let closing: Promise<number | null> | undefined;
  const close = async () => {
    if (client.closedBecause === undefined) {
      await client.request("shutdown").then(
        () => client.exit(),
        () => {},
      );
    }
    const code = await exited;
    client.dispose();
    return code;
  };
  return { client, child, exited, close: () => (closing ??= close()) };
}

/** The bin next to this module, whether it runs from dist/ or from src/client/. */
function sidecarBin(): string {
  for (const candidate of ["../bin/harn-registry", "../../bin/harn-registry"]) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("harn-registry: cannot find bin/harn-registry next to the client");
}
