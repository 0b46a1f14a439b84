// What a session registers on the runtime it shares with every other
// session (the journal's progress listener, the event log's subscription,
// its waits) is released when it ends, however it ends: a long-running
// server serves any number of connections in flat memory.
import { PassThrough } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/registry.js";
import { openRuntime } from "../../src/server/runtime.js";
import { startSession } from "../../src/server/session.js";
import { tempDir } from "../support/temp-dir.js";
import { frame, request } from "../support/wire-frames.js";

const sizeOf = (holder: unknown, field: string) =>
  ((holder as Record<string, Set<unknown>>)[field] as Set<unknown>).size;

describe("a session's registrations", () => {
  it.each(["memory", "state"] as const)(
    "are all released when it ends (%s): 120 sessions that subscribe, change, wait and end every way",
    async (kind) => {
      const runtime = await openRuntime(
        {
          clock: "manual",
          config: {},
          crashLockDelayMs: 0,
          limits: DEFAULT_LIMITS,
          statePath: kind === "state" ? tempDir("harn-release-") : undefined,
          compactBytes: 1 << 30,
          timeRequests: true,
        },
        () => {},
        (error) => {
          throw error;
        },
      );
      onTestFinished(() => runtime.close());
      const journalListeners = () => (runtime.durability === undefined ? 0 : sizeOf(runtime.durability, "listeners"));
      const subscribers = () => sizeOf(runtime.view.events, "listeners");
      const before = { journal: journalListeners(), subscribers: subscribers() };
      const ends = ["eof", "exit", "stop", "broken output"] as const;
      for (let i = 0; i < 120; i++) {
        const input = new PassThrough();
        const output = new PassThrough();
        const replies: string[] = [];
        output.on("data", (chunk: Buffer) => replies.push(chunk.toString()));
        let exited: (code: number) => void = () => {};
        const done = new Promise<number>((resolve) => (exited = resolve));
        const session = startSession({
          input,
          output,
          runtime,
          framing: "ndjson",
          maxMessageBytes: 1 << 20,
          maxQueuedBytes: 1 << 20,
          exit: exited,
          log: () => {},
        });
        input.write(
          frame(
            "ndjson",
            request(1, "initialize", { events: true }),
            request(2, "lock_try", { agent_id: 1, path: "held" }),
            request(3, "version_record", { agent_id: 0, path: `f${i}` }),
            request(4, "lock_acquire", { agent_id: 1000 + i, paths: ["held"], wait_ms: 60_000 }),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 0));
        const end = ends[i % ends.length];
        if (end === "eof") input.end();
        else if (end === "exit")
          input.write(frame("ndjson", request(5, "shutdown"), '{"jsonrpc":"2.0","method":"exit"}'));
        else if (end === "stop") session.stop("SIGTERM");
        else output.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
        await done;
        if (end !== "broken output") expect(replies.join(""), end).toContain('"id":4,"error":{"code":-32800');
      }
      expect({ journal: journalListeners(), subscribers: subscribers() }).toEqual(before);
      expect(runtime.view.stats().waits.waiting).toBe(0);
    },
  );
});
