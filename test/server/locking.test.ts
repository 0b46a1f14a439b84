// Issue 4 over the wire: waiting and its endings (grant, timeout on both
// clocks, cancellation, crash, EOF), events over both framings, fences and
// the crash lock-delay, through a session in this process.
import { CancellationTokenSource, ResponseError } from "vscode-jsonrpc/node";
import { describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.js";
import { type Json, req } from "../support/wire-frames.js";
import { STORES, WireSession } from "../support/wire-session.js";

describe.each(STORES)("%s store", (store) => {
  const manual = (config: { agent_timeout_ms?: number } = {}, crashLockDelayMs = 0) =>
    WireSession.start({ store, runtime: { config, crashLockDelayMs } });
  const system = () => WireSession.start({ store, runtime: { clock: "system" } });

  describe("waiting over the wire", () => {
    it("grants a waiting lock_acquire when the holder releases, in the same stream", async () => {
      const raw = await manual();
      await raw.call(1, "lock_try", { agent_id: 1, path: "src/a.rs" });
      raw.send(req(2, "lock_acquire", { agent_id: 2, paths: ["src/a.rs", "src/b.rs"], wait_ms: 60_000 }));
      expect(await raw.call(3, "lock_info", { path: "src/a.rs" })).toMatchObject({
        result: { holders: [{ agent_id: 1 }], waiters: 1 },
      });
      expect((await raw.call(4, "lock_release", { agent_id: 1, path: "src/a.rs" })).result).toBe(true);
      expect(await raw.next()).toEqual({
        jsonrpc: "2.0",
        id: 2,
        result: {
          granted: true,
          locks: [
            { path: "src/a.rs", mode: "exclusive", fence: 2, expires_at_ms: 30_000 },
            { path: "src/b.rs", mode: "exclusive", fence: 3, expires_at_ms: 30_000 },
          ],
          conflicts: [],
        },
      });
    });

    it("times out deterministically on clock_set with the manual clock", async () => {
      const raw = await manual();
      await raw.call(1, "lock_try", { agent_id: 1, path: "f", ttl_ms: 10_000 });
      raw.send(req(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 500 }));
      expect((await raw.call(3, "clock_set", { now_ms: 499 })).result).toBe(499);
      expect((await raw.call(4, "clock_set", { now_ms: 500 })).result).toBe(500);
      const replies = [await raw.next()];
      expect(replies).toEqual([
        {
          jsonrpc: "2.0",
          id: 2,
          result: {
            granted: false,
            locks: [],
            conflicts: [{ path: "f", holder: 1, mode: "exclusive", expires_at_ms: 10_000, queued: false }],
          },
        },
      ]);
    });

    it(
      "on the system clock, one timer grants a waiter when the holder's lock expires, " + "with no request in between",
      async () => {
        const raw = await system();
        await raw.call(1, "lock_try", { agent_id: 1, path: "f", ttl_ms: 300 });
        const started = Date.now();
        const reply = await raw.call(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 5_000 });
        const waited = Date.now() - started;
        expect(reply.result).toMatchObject({ granted: true, locks: [{ path: "f", fence: 2 }] });
        expect(waited).toBeGreaterThanOrEqual(100);
      },
    );

    it("on the system clock, answers granted: false when wait_ms runs out", async () => {
      const raw = await system();
      await raw.call(1, "lock_try", { agent_id: 1, path: "f" });
      const reply = await raw.call(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 200 });
      expect(reply.result).toMatchObject({ granted: false, conflicts: [{ path: "f", holder: 1 }] });
    });

    it("answers a waiting agent that crashes with agent_gone (1006)", async () => {
      const raw = await manual({ agent_timeout_ms: 1000 });
      await raw.call(1, "lock_try", { agent_id: 1, path: "f", ttl_ms: 1_000_000 });
      await raw.call(6, "agent_heartbeat", { agent_id: 2 });
      raw.send(req(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 1_000_000 }));
      await raw.call(3, "clock_set", { now_ms: 900 });
      await raw.call(4, "agent_heartbeat", { agent_id: 1 });
      await raw.call(5, "clock_set", { now_ms: 1_001 });
      expect(await raw.next()).toEqual({
        jsonrpc: "2.0",
        id: 2,
        error: {
          code: 1006,
          message: "lock_acquire: agent 2 was crashed while waiting",
          data: { method: "lock_acquire", error: "agent_gone" },
        },
      });
    });

    it("answers $/cancelRequest with -32800 (vscode-jsonrpc client)", async () => {
      const wire = await manual();
      const client = createClient(wire.output, wire.input);
      await client.request("lock_try", { agent_id: 1, path: "f" });
      const source = new CancellationTokenSource();
      const waiting = client.connection.sendRequest(
        "lock_acquire",
        { agent_id: 2, paths: ["f"], wait_ms: 60_000 },
        source.token,
      );
      await client.request("current_seq");
      source.cancel();
      const error = (await waiting.catch((e: unknown) => e)) as ResponseError;
      expect(error).toBeInstanceOf(ResponseError);
      expect(error.code).toBe(-32800);
      expect(await client.request("lock_info", { path: "f" })).toMatchObject({ waiters: 0 });
      await client.request("shutdown");
      await client.exit();
      expect(await wire.exited).toBe(0);
      client.dispose();
    });

    it("on stdin EOF, answers a waiting request as cancelled and exits 0", async () => {
      const raw = await system();
      await raw.call(1, "lock_try", { agent_id: 1, path: "f" });
      raw.send(req(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 60_000 }));
      expect(await raw.endInput()).toBe(0);
      expect(raw.allMessages().at(-1)).toMatchObject({ id: 2, error: { code: -32800 } });
    });
  });

  describe("fences and lock-delay over the wire", () => {
    it("rejects a write with a stale fence (1005) and records nothing", async () => {
      const raw = await manual();
      const granted = (await raw.call(1, "lock_acquire", { agent_id: 1, paths: ["src"], ttl_ms: 100 })).result;
      const fence = granted.locks[0].fence;
      expect((await raw.call(2, "version_record", { agent_id: 1, path: "src/a.rs", fence })).result).toBe(1);
      await raw.call(3, "clock_set", { now_ms: 100 });
      expect((await raw.call(4, "version_record", { agent_id: 1, path: "src/a.rs", fence })).error).toMatchObject({
        code: 1005,
        data: { error: "stale_fence" },
      });
      expect((await raw.call(5, "current_seq")).result).toBe(1);
    });

    it("keeps a crashed holder's path from others for --crash-lock-delay-ms", async () => {
      const raw = await manual({ agent_timeout_ms: 1000 }, 5000);
      await raw.call(1, "lock_try", { agent_id: 1, path: "f", ttl_ms: 1_000_000 });
      await raw.call(2, "clock_set", { now_ms: 1_001 });
      expect((await raw.call(3, "lock_try", { agent_id: 2, path: "f" })).result).toEqual({ locked: false, holder: 1 });
      await raw.call(4, "clock_set", { now_ms: 6_001 });
      expect((await raw.call(5, "lock_try", { agent_id: 2, path: "f" })).result).toEqual({ locked: true, holder: 2 });
    });
  });

  for (const framing of ["ndjson", "content-length"] as const) {
    describe(`events over ${framing}`, () => {
      it("sends notifications only after subscribing, numbered, and events_since catches up", async () => {
        const raw = await WireSession.start({ store, wire: framing });
        await raw.call(1, "lock_try", { agent_id: 1, path: "before" });
        expect(raw.notifications).toEqual([]);
        expect((await raw.call(2, "initialize", { events: true })).result).toMatchObject({ framing });
        await raw.call(3, "lock_acquire", { agent_id: 2, paths: ["docs"], mode: "shared" });
        await raw.call(4, "lock_force_release", { path: "docs", reason: "operator" });
        await raw.call(5, "agent_unregister", { agent_id: 1 });
        const seen: Json[] = raw.notifications;
        expect(seen.map((n) => n.method)).toEqual([
          "agent/registered",
          "lock/granted",
          "lock/released",
          "lock/released",
          "agent/unregistered",
        ]);
        expect(seen.map((n) => n.params.event_seq)).toEqual([3, 4, 5, 6, 7]);
        expect(seen[2].params).toMatchObject({
          type: "lock/released",
          agent_id: 2,
          path: "docs",
          reason: "forced",
          note: "operator",
        });
        expect(seen[3].params).toMatchObject({ path: "before", reason: "unregistered" });
        expect(seen[4].params).toMatchObject({ agent_id: 1, released: ["before"] });
        const since = (await raw.call(6, "events_since", { seq: 1 })).result;
        expect(since.events.map((e: Json) => e.event_seq)).toEqual([2, 3, 4, 5, 6, 7]);
        expect(since).toMatchObject({ oldest_seq: 1, latest_seq: 7 });
      });
    });
  }
});
