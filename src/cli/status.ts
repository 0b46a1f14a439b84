import { watch as watchDirectory, readFileSync } from "node:fs";
import { connectRegistry, type RegistryClient } from "../client/index.js";
import { Registry } from "../core/registry.js";
import { replayStateDir } from "../storage/durable-state.js";
import { PinnedClock } from "../storage/pinned-clock.js";
import { lastWrittenMs, stateClock } from "../storage/state-clock.js";
import { readAuthToken } from "../transport/auth-token.js";
import { parseSnapshotText } from "../storage/snapshot-text.js";
import { readStateDir } from "../storage/state-files.js";
import { naming, oneLine } from "./failure.js";
import { type StatusView, renderStatus, viewOf } from "./status-view.js";

/** Where `status` reads the registry from. */
export type StatusSource =
  | { kind: "listen"; address: string; authTokenFile?: string }
  | { kind: "state"; dir: string }
  | { kind: "snapshot"; file: string };

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
 * (or every change to the state directory). A source that cannot be read
 * throws an error naming it; --watch exits 1 when the server goes away.
 */
export async function runStatus(options: StatusOptions): Promise<void> {
  const { source } = options;
  const subject = source.kind === "listen" ? source.address : source.kind === "state" ? source.dir : source.file;
  const client =
    source.kind === "listen"
      ? await connectRegistry(source.address, {
          authToken: source.authTokenFile === undefined ? undefined : readAuthToken(source.authTokenFile),
        }).catch((error: unknown) => {
          throw naming(subject, error);
        })
      : undefined;
  const label =
    source.kind === "listen"
      ? source.address
      : source.kind === "state"
        ? `state ${source.dir}`
        : `snapshot ${source.file}`;
  const load = async (): Promise<StatusView> => {
    try {
      if (client !== undefined) {
        const [hello, snapshot] = await Promise.all([client.request("initialize"), client.request("snapshot")]);
        return viewOf(snapshot, hello.config_sources, hello.clock);
      }
      return source.kind === "state" ? fromStateDir(source.dir) : fromFile(subject);
    } catch (error) {
      throw naming(subject, error);
    }
  };
  const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined && !options.json;
  let first = true;
  const draw = async () => {
    const view = await load();
    const text = options.json ? `${JSON.stringify(view)}\n` : renderStatus(view, label, colour);
    const separator = first ? "" : colour ? "\u001b[2J\u001b[H" : options.json ? "" : "\n";
    first = false;
    process.stdout.write(separator + text);
  };
  let pending: NodeJS.Timeout | undefined;
  const redraw = () => {
    if (pending !== undefined) return;
    pending = setTimeout(() => {
      pending = undefined;
      draw().catch((error: unknown) => fail(error));
    }, 50);
  };
  try {
    // Subscribed before the first draw, so that no event between the view read and the subscription is missed.
    if (options.watch && client !== undefined) await watchServer(client, redraw);
    await draw();
  } catch (error) {
    client?.dispose();
    throw error;
  }
  if (!options.watch) {
    client?.dispose();
    return;
  }
  if (client === undefined && source.kind === "state")
    watchDirectory(source.dir, redraw).on("error", (error) => fail(naming(source.dir, error)));
  if (colour) setInterval(redraw, 1000);
}

/**
 * Redraw on every event (each redraw re-reads the whole view, so a dropped subscription is simply taken again); the
 * server going away is a failure (exit 1), named by the client's reason.
 */
async function watchServer(client: RegistryClient, redraw: () => void): Promise<void> {
  client.connection.onNotification((method: string) => {
    if (method === "events/dropped") client.request("events_subscribe").catch(() => {});
    redraw();
  });
  void client.closed.then((why) => fail(why));
  await client.request("events_subscribe");
}

/**
 * The state a writer of `dir` holds now, rebuilt from its files without
 * locking them, judged at the writer's time (see stateClock: the wall
 * clock, or where a --clock=manual writer's clock stands); its config is
 * the directory's unless it holds nothing yet. A directory with neither
 * state.json nor a journal (every writer writes state.json at once) is not
 * a state directory.
 */
function fromStateDir(dir: string): StatusView {
  const written = lastWrittenMs(dir);
  const read = readStateDir(dir);
  if (read.saved === undefined && read.journals.length === 0)
    throw new Error("is not a state directory: it holds no state.json and no journal");
  const time = stateClock(read, written, Date.now());
  const now = () => time.nowMs;
  const { registry, entries } = replayStateDir(read, new PinnedClock(now), { now, limits: VIEW_LIMITS });
  const source = (read.saved?.generation ?? 0) > 0 || entries > 0 ? "state" : "default";
  return viewOf(registry.snapshot(), { default_lock_ttl_ms: source, agent_timeout_ms: source }, time.kind);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const kindOf = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`);

/**
 * A snapshot file (ours, a state.json, or harn-hostlib's, read losslessly: u64 hashes as bare numbers stay exact), as
 * of when it was taken.
 */
function fromFile(file: string): StatusView {
  const text = readFileSync(file, "utf8");
  let parsed: unknown;
  try {
    parsed = parseSnapshotText(text);
  } catch (error) {
    throw new Error(`is not JSON: ${oneLine(error)}`);
  }
  if (!isObject(parsed)) throw new Error(`is not a snapshot: it holds ${kindOf(parsed)}, not an object`);
  if ("snapshot" in parsed && !isObject(parsed.snapshot))
    throw new Error(`is not a snapshot: its "snapshot" holds ${kindOf(parsed.snapshot)}, not an object`);
  const snapshot = isObject(parsed.snapshot) ? parsed.snapshot : parsed;
  const at = typeof snapshot.taken_at_ms === "number" ? snapshot.taken_at_ms : Date.now();
  const registry = new Registry({ now: () => at, limits: VIEW_LIMITS });
  registry.restore(snapshot);
  const source = isObject(snapshot.config) ? "snapshot" : "default";
  return viewOf(registry.snapshot(), { default_lock_ttl_ms: source, agent_timeout_ms: source });
}

/** A failure while watching: one line, exit 1. */
function fail(error: unknown): never {
  process.stderr.write(`harn-registry status: ${oneLine(error)}\n`);
  process.exit(1);
}
