import type { RegistryConfig } from "../../protocol/common.js";
import type { ConfigSources } from "../../protocol/methods.js";
import type { Snapshot } from "../../protocol/snapshot.js";

/** Where a config value came from, as `status` can tell: initialize's sources, or the snapshot file that holds it. */
export type StatusConfigSource = ConfigSources[keyof ConfigSources] | "snapshot";

/** What `status` shows: the config in force, every agent and every lock, as of one moment. */
export interface StatusView {
  as_of_ms: number;
  /**
   * Present when `as_of_ms` is a manual clock's time (a --clock=manual server, or a state directory its writer kept on
   * one), not the wall clock's.
   */
  clock?: "manual";
  config: RegistryConfig;
  config_sources: Record<keyof RegistryConfig, StatusConfigSource>;
  agents: { id: number; name: string; state: string; last_seen_ms: number; edit_count: number; locks: number }[];
  locks: { path: string; mode: "exclusive" | "shared"; holder: number; fence: number; expires_at_ms: number }[];
}

/**
 * The view of a format-2 snapshot (agents by id, locks by path then holder); its config came from `sources`, its time
 * from a `clock` of that kind.
 */
export function viewOf(
  snapshot: Snapshot,
  sources: StatusView["config_sources"],
  clock: "system" | "manual" = "system",
): StatusView {
  const locks: StatusView["locks"] = [];
  const agents = snapshot.agents.agents.map((agent) => {
    const shared = new Set(agent.shared_paths);
    const paths = Object.keys(agent.locked_paths);
    for (const path of paths) {
      locks.push({
        path,
        mode: shared.has(path) ? "shared" : "exclusive",
        holder: agent.id,
        fence: agent.lock_fences[path] as number,
        expires_at_ms: agent.locked_paths[path] as number,
      });
    }
    return {
      id: agent.id,
      name: agent.name,
      state: agent.state,
      last_seen_ms: agent.last_seen_ms,
      edit_count: agent.edit_count,
      locks: paths.length,
    };
  });
  locks.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.holder - b.holder));
  const time = clock === "manual" ? { as_of_ms: snapshot.taken_at_ms, clock } : { as_of_ms: snapshot.taken_at_ms };
  return { ...time, config: snapshot.config, config_sources: sources, agents, locks };
}

const ESC = "\u001b[";
const paint = (code: string, text: string) => `${ESC}${code}m${text}${ESC}0m`;
const STATE_COLOURS: Record<string, string> = { active: "32", crashed: "31", gone: "90" };

/** A duration as people read it: 850ms, 12s, 4m 05s, 3h 02m, 2d 04h. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${two(Math.floor(s / 3600) % 24)}h`;
}

/** Columns padded to their widest cell; numbers right-aligned; `colour(row, column)` paints a cell (TTY only). */
function table(
  header: string[],
  rows: string[][],
  numeric: boolean[],
  colour?: (row: number, column: number) => string | undefined,
): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: string[], row: number) =>
    cells
      .map((cell, column) => {
        const padded = numeric[column]
          ? cell.padStart(widths[column] as number)
          : cell.padEnd(widths[column] as number);
        const code = row >= 0 ? colour?.(row, column) : undefined;
        return code === undefined ? padded : paint(code, padded);
      })
      .join("  ")
      .trimEnd();
  return [line(header, -1), ...rows.map((row, index) => line(row, index))];
}

/** The view as two aligned tables; coloured only when `colour` (a terminal that wants it). */
export function renderStatus(view: StatusView, source: string, colour: boolean): string {
  const now = view.as_of_ms;
  const heading = (text: string) => (colour ? paint("1", text) : text);
  const agentRows = view.agents.map((agent) => [
    String(agent.id),
    agent.name,
    agent.state,
    `${humanDuration(now - agent.last_seen_ms)} ago`,
    String(agent.edit_count),
    String(agent.locks),
  ]);
  const lockRows = view.locks.map((lock) => [
    lock.path,
    lock.mode,
    String(lock.holder),
    String(lock.fence),
    humanDuration(lock.expires_at_ms - now),
  ]);
  const config = (Object.keys(view.config) as (keyof RegistryConfig)[]).map(
    (key) => `${key}=${view.config[key]} (${view.config_sources[key]})`,
  );
  const asOf = `as of ${new Date(now).toISOString()}${view.clock === "manual" ? " (manual clock)" : ""}`;
  const lines = [
    `${heading("harn-registry status")}  ${source}  ${asOf}`,
    `config  ${config.join(", ")}`,
    "",
    heading(`Agents (${view.agents.length})`),
  ];
  if (agentRows.length === 0) lines.push("  none");
  else {
    const paintAgent = colour
      ? (row: number, column: number) => (column === 2 ? STATE_COLOURS[view.agents[row]?.state ?? ""] : undefined)
      : undefined;
    lines.push(
      ...table(
        ["ID", "NAME", "STATE", "LAST SEEN", "EDITS", "LOCKS"],
        agentRows,
        [true, false, false, false, true, true],
        paintAgent,
      ).map((l) => `  ${l}`),
    );
  }
  lines.push("", heading(`Locks (${view.locks.length})`));
  if (lockRows.length === 0) lines.push("  none");
  else {
    const paintLock = colour
      ? (row: number, column: number) =>
          column === 4 && (view.locks[row]?.expires_at_ms ?? 0) - now < 5_000 ? "33" : undefined
      : undefined;
    lines.push(
      ...table(
        ["PATH", "MODE", "HOLDER", "FENCE", "EXPIRES IN"],
        lockRows,
        [false, false, true, true, false],
        paintLock,
      ).map((l) => `  ${l}`),
    );
  }
  return `${lines.join("\n")}\n`;
}
