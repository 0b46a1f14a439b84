// Over the wire: paths and method names that are members of Object.prototype
// are data, counters at 2^53-1 survive snapshot → restore (the lossless
// reader gives 2^53 as a bigint), and domain errors name the method once.
import { describe, expect, it } from "vitest";
import { WireSession } from "../support/wire-session.js";

const MAX = Number.MAX_SAFE_INTEGER;

describe("keys and counters over the wire", () => {
  it("locks and records __proto__, snapshots it and restores it", async () => {
    const sidecar = await WireSession.start();
    expect((await sidecar.call(1, "lock_try", { agent_id: 1, path: "__proto__" })).result).toEqual({
      locked: true,
      holder: 1,
    });
    expect((await sidecar.call(2, "version_record", { agent_id: 1, path: "__proto__" })).result).toBe(1);
    const snapshot = (await sidecar.call(3, "snapshot")).result;
    expect(Object.keys(snapshot.agents.agents[0].locked_paths)).toEqual(["__proto__"]);
    expect(Object.keys(snapshot.versions.history)).toEqual(["__proto__"]);
    expect((await sidecar.call(4, "lock_release", { agent_id: 1, path: "__proto__" })).result).toBe(true);
    expect((await sidecar.call(5, "restore", { snapshot })).result).toEqual({ agents: 1, locks: 1, current_seq: 1 });
    expect((await sidecar.call(6, "lock_try", { agent_id: 2, path: "__proto__" })).result).toEqual({
      locked: false,
      holder: 1,
    });
  });

  it("answers a method named like an Object.prototype member as unknown and counts no request for it", async () => {
    const sidecar = await WireSession.start({ runtime: { clock: "system" } });
    const names = ["__proto__", "toString", "constructor", "hasOwnProperty"];
    for (const [id, method] of names.entries())
      expect((await sidecar.call(id, method)).error).toMatchObject({ code: -32601 });
    const metrics = (await sidecar.call("m", "metrics")).result;
    expect(Object.keys(metrics.requests)).toEqual(["metrics"]);
    expect(metrics.errors).toEqual({ "-32601": names.length });
  });

  it(
    "round-trips a snapshot whose counters are used up, " + "then refuses the next id, naming the method once",
    async () => {
      const sidecar = await WireSession.start();
      expect((await sidecar.call(1, "agent_register", { name: "last", agent_id: MAX })).result).toBe(MAX);
      const snapshot = (await sidecar.call(2, "snapshot")).result;
      expect(snapshot.agents.next_id).toBe(2 ** 53);
      expect((await sidecar.call(3, "restore", { snapshot })).result).toEqual({ agents: 1, locks: 0, current_seq: 0 });
      expect((await sidecar.call(4, "snapshot")).result).toEqual(snapshot);
      const refused = (await sidecar.call(5, "agent_register", { name: "one more" })).error;
      expect(refused).toMatchObject({ code: 1003, data: { method: "agent_register", error: "id_space_exhausted" } });
      expect(refused.message).toMatch(/^agent_register: the agent id counter \(next_id\) is exhausted/);
    },
  );

  it("names the method once in a stale_fence error", async () => {
    const sidecar = await WireSession.start();
    await sidecar.call(1, "lock_try", { agent_id: 1, path: "a" });
    const refused = (await sidecar.call(2, "version_record", { agent_id: 1, path: "a", fence: 9 })).error;
    expect(refused).toMatchObject({ code: 1005 });
    expect(refused.message).toMatch(/^version_record: fence 9 is not a live lock/);
  });
});
