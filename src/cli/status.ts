import { watch as watchDirectory, readFileSync } from "node:fs";
import type { Snapshot } from "../../protocol/snapshot.js";
import { connectRegistry, type RegistryClient } from "../client/index.js";
import { Registry } from "../core/registry.js";
import { replayStateDir } from "../storage/durable-state.js";
import { PinnedClock } from "../storage/pinned-clock.js";
import { readStateDir } from "../storage/state-files.js";
import { renderStatus, viewOf } from "./status-view.js";

/** Where `status` reads the registry from. */
export type StatusSource = { kind: "listen"; address: string; authTokenFile?: string } | { kind: "state"; dir: string } | { kind: "snapshot"; file: string };

/** Options of `harn-registry status`. */
export interface StatusOptions {
  source: StatusSource;
  json: boolean;
  watch: boolean;
}

/** Read-only views replay with no limits: the writer's limits were already applied when it accepted the calls. */
const VIEW_LIMITS = { maxAgents: Number.MAX_SAFE_INTEGER, maxLocksPerAgent: Number.MAX_SAFE_INTEGER };

/**
 * Print who holds what: agents and locks from a running server (--listen),
 * a state directory (--state, read without taking its lock) or a snapshot
 * file (--snapshot); --json for machines, --watch to redraw on every event
 * (or every change to the state directory).
 */
export async function runStatus(options: StatusOptions): Promise<void> {
  const { source } = options;
  const client = source.kind === "listen" ? await connectRegistry(source.address, { authTokenFile: source.authTokenFile }) : undefined;
  const label = source.kind === "listen" ? source.address : source.kind === "state" ? `state ${source.dir}` : `snapshot ${source.file}`;
  const load = async (): Promise<Snapshot> => (client !== undefined ? client.request("snapshot") : source.kind === "state" ? fromStateDir(source.dir) : fromFile((source as { file: string }).file));
  const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined && !options.json;
  let first = true;
  const draw = async () => {
    const view = viewOf(await load());
    const text = options.json ? `${JSON.stringify(view)}\n` : renderStatus(view, label, colour);
    const separator = first ? "" : colour ? "\u001b[2J\u001b[H" : options.json ? "" : "\n";
    first = false;
    process.stdout.write(separator + text);
  };
  await draw();
  if (!options.watch) {
    client?.dispose();
    return;
  }
  let pending: NodeJS.Timeout | undefined;
  const redraw = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      draw().catch((error: unknown) => fail(error));
    }, 50);
  };
  if (client !== undefined) watchServer(client, redraw);
  else if (source.kind === "state") watchDirectory(source.dir, redraw);
  if (colour) setInterval(redraw, 1000);
}

function watchServer(client: RegistryClient, redraw: () => void): void {
  client.connection.onNotification(() => redraw());
  void client.closed.then((why) => {
    process.stderr.write(`harn-registry status: ${why}\n`);
    process.exit(0);
  });
  void client.request("events_subscribe");
}

/** The state a writer of `dir` holds now, rebuilt from its files without locking them. */
function fromStateDir(dir: string): Snapshot {
  const clock = new PinnedClock(Date.now);
  return replayStateDir(readStateDir(dir), clock, { now: Date.now, limits: VIEW_LIMITS }).registry.snapshot();
}

/** A snapshot file (ours, a state.json, or harn-hostlib's), as of when it was taken. */
function fromFile(file: string): Snapshot {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { snapshot?: unknown; taken_at_ms?: unknown };
  const snapshot = (parsed.snapshot !== undefined && typeof parsed.snapshot === "object" ? parsed.snapshot : parsed) as { taken_at_ms?: unknown };
  const at = typeof snapshot.taken_at_ms === "number" ? snapshot.taken_at_ms : Date.now();
  const registry = new Registry({ now: () => at, limits: VIEW_LIMITS });
  registry.restore(snapshot);
  return registry.snapshot();
}

function fail(error: unknown): never {
  process.stderr.write(`harn-registry status: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
