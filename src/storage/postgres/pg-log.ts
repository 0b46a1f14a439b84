// TEMPORARY interface stub: replaced by the log layer (helper pglog).
/** One row of the log. `a` is the JSON text of the call's arguments, exactly as journaled. */
export interface LogEntry {
  seq: number;
  t: number;
  sidecar: number;
  batch: number;
  op: string;
  a: string;
}
export interface SavedRow {
  seq: number;
  t: number;
  state: string;
}
export interface PgLog {
  readonly sidecarId: number;
  load(): Promise<{ saved?: SavedRow; entries: LogEntry[]; now: number }>;
  append(
    after: number,
    batch: number,
    entries: { op: string; a: string }[],
    options?: { claims?: readonly number[]; manualT?: number },
  ): Promise<{ entries: LogEntry[]; now: number }>;
  tail(after: number): Promise<{ entries: LogEntry[]; now: number }>;
  batchEntries(batch: number): Promise<LogEntry[]>;
  claim(agentIds: readonly number[]): Promise<void>;
  saveSnapshot(row: SavedRow): Promise<void>;
  onChange(listener: () => void): void;
  onConnection(listener: (up: boolean) => void): void;
  close(): Promise<void>;
  stats(): Record<string, number>;
}
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly outcome: "not_sent" | "unknown",
  ) {
    super(message);
  }
}
export declare function openPgLog(
  url: string,
  options: { schema?: string; clock: "system" | "manual"; keepAgents: boolean; log(line: string): void },
): Promise<PgLog>;
