import { PassThrough } from "node:stream";
import { DEFAULT_LIMITS } from "../core/registry.js";
import { createClient, type RegistryClient } from "../client/index.js";
import { openRuntime } from "../server/runtime.js";
import { startSession } from "../server/session.js";

const TTL_MS = 5_000;
const TIMEOUT_MS = 45_000;

/**
 * `harn-registry demo`: a sidecar in this process (in memory, manual
 * clock) and a short story told through the typed client, one timeline
 * line per step with its outcome, and the events the registry sent.
 */
export async function runDemo(
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const runtime = await openRuntime(
    {
      clock: "manual",
      config: { default_lock_ttl_ms: TTL_MS, agent_timeout_ms: TIMEOUT_MS },
      crashLockDelayMs: 0,
      limits: DEFAULT_LIMITS,
      compactBytes: 1 << 30,
      timeRequests: true,
    },
    () => {},
    (error) => {
      throw error;
    },
  );
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  startSession({
    input: toServer,
    output: toClient,
    runtime,
    framing: "auto",
    maxMessageBytes: 1 << 20,
    exit: () => {},
    log: () => {},
  });
  const client = createClient(toClient, toServer);
  const story = new Story(client, out);
  await story.play();
  client.dispose();
  toServer.end();
  await runtime.close();
}

/** The fields of the registry's events that the timeline shows. */
interface EventParams {
  agent_id?: number;
  path?: string;
  reason?: string;
  fence?: number;
  released?: string[];
}

class Story {
  private now = 0;
  private readonly names = new Map<number, string>();
  private readonly events: { method: string; params: EventParams }[] = [];

  constructor(
    private readonly client: RegistryClient,
    private readonly out: (line: string) => void,
  ) {
    client.connection.onNotification((method, params) => {
      this.events.push({ method, params: params as EventParams });
    });
  }

  async play(): Promise<void> {
    const { client } = this;
    await client.request("initialize", { client_name: "demo", events: true });
    this.out(
      `harn-registry demo: an in-process sidecar, manual clock, lock TTL ${TTL_MS / 1000}s, agents crash after ` +
        `${TIMEOUT_MS / 1000}s of silence`,
    );
    const editor = await this.register("editor");
    const reviewer = await this.register("reviewer");
    const refactorer = await this.register("refactorer");

    this.scene("1. Two agents contend for one file; the second waits and is granted on release");
    const first = await client.request("lock_acquire", { agent_id: editor, paths: ["src/main.rs"] });
    this.step(
      editor,
      "lock_acquire src/main.rs",
      first.granted ? `granted, fence ${first.locks[0]?.fence}` : "refused",
    );
    const tried = await client.request("lock_try", { agent_id: reviewer, path: "src/main.rs" });
    this.step(
      reviewer,
      "lock_try src/main.rs",
      tried.locked ? "granted" : `refused: held by ${this.name(tried.holder ?? 0)}`,
    );
    const waiting = client.request("lock_acquire", { agent_id: reviewer, paths: ["src/main.rs"], wait_ms: 10_000 });
    this.step(reviewer, "lock_acquire src/main.rs, wait up to 10s", "queued");
    await this.advance(2_000);
    const seq = await client.request("version_record", {
      agent_id: editor,
      path: "src/main.rs",
      hash: "1469598103934665603",
      size: 120,
      fence: first.locks[0]?.fence,
    });
    this.step(editor, "version_record src/main.rs with its fence", `recorded as change ${seq}`);
    await client.request("lock_release", { agent_id: editor, path: "src/main.rs" });
    this.step(editor, "lock_release src/main.rs", "released");
    const handed = await waiting;
    this.step(
      reviewer,
      "(still waiting)",
      handed.granted ? `granted on release, fence ${handed.locks[0]?.fence}` : "timed out",
    );

    this.scene("2. A directory lock blocks the files below it");
    const dir = await client.request("lock_acquire", { agent_id: refactorer, paths: ["docs"], ttl_ms: 3_600_000 });
    this.step(
      refactorer,
      "lock_acquire docs (a directory, for 1h)",
      dir.granted ? `granted, fence ${dir.locks[0]?.fence}` : "refused",
    );
    const blocked = await client.request("lock_try", { agent_id: editor, path: "docs/guide.md" });
    this.step(
      editor,
      "lock_try docs/guide.md",
      blocked.locked ? "granted" : `refused: held by ${this.name(blocked.holder ?? 0)} (docs covers it)`,
    );

    this.scene("3. A paused writer is refused by its stale fence");
    const fence = handed.locks[0]?.fence;
    this.step(reviewer, "pauses (a long GC) holding src/main.rs", `fence ${fence}, expires in ${TTL_MS / 1000}s`);
    await this.advance(TTL_MS + 1_000);
    const taken = await client.request("lock_acquire", { agent_id: editor, paths: ["src/main.rs"] });
    this.step(
      editor,
      "lock_acquire src/main.rs",
      taken.granted ? `granted, fence ${taken.locks[0]?.fence} (the paused lock expired)` : "refused",
    );
    try {
      await client.request("version_record", { agent_id: reviewer, path: "src/main.rs", hash: "42", fence });
      this.step(reviewer, `wakes up, version_record with fence ${fence}`, "recorded (this must not happen)");
    } catch (error) {
      this.step(
        reviewer,
        `wakes up, version_record with fence ${fence}`,
        `refused: ${(error as { data?: { error?: string } }).data?.error ?? "error"}; nothing recorded`,
      );
    }

    this.scene("4. An agent goes silent; its locks are freed when it times out");
    for (let t = 0; t < TIMEOUT_MS + 5_000; t += 15_000) {
      await this.advance(15_000);
      await client.request("agent_heartbeat", { agent_id: editor });
      await client.request("agent_heartbeat", { agent_id: reviewer });
    }
    const silent = await client.request("agent_get", { agent_id: refactorer });
    this.step(
      refactorer,
      `silent for ${(this.now - (silent?.last_seen_ms ?? 0)) / 1000}s`,
      `${silent?.state ?? "unknown"}, ${silent?.locks.length ?? 0} locks left`,
    );
    const freed = await client.request("lock_try", { agent_id: editor, path: "docs/guide.md" });
    this.step(
      editor,
      "lock_try docs/guide.md",
      freed.locked ? "granted (docs was freed)" : `refused: held by ${this.name(freed.holder ?? 0)}`,
    );

    const metrics = await client.request("metrics");
    this.out("");
    this.out(
      `Done: ${metrics.locks.granted} locks granted, ${metrics.locks.refused} refused, ${metrics.locks.expired} ` +
        `expired, ${metrics.locks.freed_by_crash} freed by a crash; ${metrics.waits.granted} wait granted.`,
    );
  }

  private async register(name: string): Promise<number> {
    const id = await this.client.request("agent_register", { name });
    this.names.set(id, name);
    this.step(id, "agent_register", `agent ${id}`);
    return id;
  }

  private name(id: number): string {
    return `${this.names.get(id) ?? "agent"} (${id})`;
  }

  private scene(title: string): void {
    this.flushEvents();
    this.out("");
    this.out(title);
  }

  private step(agent: number, action: string, outcome: string): void {
    this.flushEvents();
    this.out(
      `  t=${(this.now / 1000).toFixed(1).padStart(5)}s  ${this.name(agent).padEnd(15)}  ${action.padEnd(44)}  → ` +
        `${outcome}`,
    );
  }

  private async advance(ms: number): Promise<void> {
    this.now += ms;
    await this.client.request("clock_set", { now_ms: this.now });
  }

  private flushEvents(): void {
    for (const { method, params } of this.events.splice(0)) {
      const who = params.agent_id === undefined ? "" : ` ${this.name(params.agent_id)}`;
      const what = params.path ?? (params.released === undefined ? "" : `released [${params.released.join(", ")}]`);
      const extra =
        params.reason === undefined
          ? params.fence === undefined
            ? ""
            : ` fence ${params.fence}`
          : ` (${params.reason})`;
      this.out(`  ${" ".repeat(26)}event: ${`${method}${who} ${what}${extra}`.replace(/\s+/g, " ").trim()}`);
    }
  }
}
