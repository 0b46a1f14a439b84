// The metrics method: every counter moves with the requests that should
// move it, through a session in this process.
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";
import { type Json, req } from "../support/wire-frames.js";
import { STORES, WireSession } from "../support/wire-session.js";

const metricsOf = async (sidecar: WireSession): Promise<Json> => (await sidecar.call("m", "metrics")).result;

describe.each(STORES)("metrics (%s store)", (store) => {
  it("counts requests, errors, locks, waits and agents as they happen", async () => {
    const sidecar = await WireSession.start({
      store,
      runtime: { config: { default_lock_ttl_ms: 1000, agent_timeout_ms: 5000 } },
    });
    const before = await metricsOf(sidecar);
    expect(before).toMatchObject({
      requests: {},
      errors: {},
      latency_us: { count: 0 },
      locks: { held: 0, granted: 0, refused: 0 },
      waits: { waiting: 0, started: 0 },
      agents: { active: 0, crashed: 0, gone: 0 },
      connections: 1,
      // A state directory counts its journal's lines (the start journals the process options and a tick).
      journal: store === "directory" ? expect.objectContaining({ generation: 0 }) : null,
    });
    const replies = new Map<unknown, Json>();
    const answer = async (id: unknown): Promise<Json> => {
      while (!replies.has(id)) {
        const reply = await sidecar.next();
        replies.set(reply.id, reply);
      }
      return replies.get(id);
    };
    const call = (id: number, method: string, params?: Json) => {
      sidecar.send(req(id, method, params));
      return answer(id);
    };
    await call(1, "lock_try", { agent_id: 1, path: "a" });
    await call(2, "lock_try", { agent_id: 2, path: "a" });
    await call(3, "lock_acquire", { agent_id: 2, paths: ["b", "c"] });
    sidecar.send(req(4, "lock_acquire", { agent_id: 3, paths: ["a"], wait_ms: 60_000 }));
    sidecar.send(req(5, "lock_acquire", { agent_id: 4, paths: ["b"], wait_ms: 500 }));
    await call(6, "lock_release", { agent_id: 1, path: "a" });
    expect((await answer(4)).result.granted).toBe(true);
    await call(7, "lock_force_release", { path: "c", reason: "ops" });
    await call(8, "lock_try", { agent_id: 9, path: "/abs" });
    await call(9, "no_such_method");
    sidecar.sendRaw("{not json\n");
    sidecar.send(req("m1", "metrics"));
    const middle = (await answer("m1")).result;
    expect(middle.requests).toEqual({
      lock_acquire: 3,
      lock_force_release: 1,
      lock_release: 1,
      lock_try: 3,
      metrics: 2,
    });
    expect(middle.errors).toEqual({ "-32700": 1, "-32602": 1, "-32601": 1 });
    // answered at once, though wait 5 is still waiting
    expect(replies.get(null)).toMatchObject({ error: { code: -32700 } });
    expect(middle.locks).toMatchObject({ held: 2, granted: 4, refused: 1, released: 1, force_released: 1 });
    expect(middle.waits).toMatchObject({ waiting: 1, started: 2, granted: 1 });
    // agent 4 only waits: it has no record until a grant
    expect(middle.agents).toEqual({ active: 3, crashed: 0, gone: 0 });
    await call(10, "clock_set", { now_ms: 2_000 });
    expect((await answer(5)).result.granted).toBe(false);
    await call(11, "clock_set", { now_ms: 10_000 });
    sidecar.send(req("m", "metrics"));
    const after = (await answer("m")).result;
    expect(after.waits).toMatchObject({ waiting: 0, started: 2, granted: 1, timed_out: 1 });
    expect(after.locks).toMatchObject({ held: 0, expired: 2, refused: 2 });
    expect(after.agents).toEqual({ active: 0, crashed: 3, gone: 0 });
    const { count, p50, p90, p99, max } = after.latency_us;
    const answeredBefore = Object.values(after.requests as Record<string, number>).reduce((a, b) => a + b, 0) - 1;
    expect(count).toBe(answeredBefore + 1);
    expect(0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max).toBe(true);
    expect(after.uptime_ms).toBeGreaterThanOrEqual(0);
  });
});

describe("metrics with --state", () => {
  it("counts journal lines, writes and fsyncs with --state", async () => {
    const dir = tempDir("harn-metrics-");
    const sidecar = await WireSession.start({ statePath: dir, runtime: { clock: "system" } });
    const before = (await metricsOf(sidecar)).journal;
    for (let i = 0; i < 50; i++) sidecar.send(req(i, "lock_try", { agent_id: 1, path: `p${i}` }));
    for (let i = 0; i < 50; i++) await sidecar.next();
    const after = (await metricsOf(sidecar)).journal;
    expect(after.generation).toBe(0);
    expect(after.lines - before.lines).toBe(50);
    expect(after.fsyncs).toBeGreaterThan(before.fsyncs);
    expect(after.fsyncs - before.fsyncs).toBeLessThan(50);
    expect(after.writes).toBeGreaterThanOrEqual(after.fsyncs);
    expect(after.bytes).toBeGreaterThan(before.bytes);
  });
});
