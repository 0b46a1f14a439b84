// Deadlock refusal over the wire, through a session in this process: the
// two-agent cycle, a three-agent cycle, the shared-to-exclusive upgrade, a
// cycle through a directory, cycles that close through a request queued
// ahead; each refusal answers deadlock (1010) with the cycle in its data,
// subscribers get lock/deadlock first, and nothing changes: the requester
// keeps its locks and the others keep waiting.
import { describe, expect, it } from "vitest";
import { type Json, req } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

const WAIT = 1_000_000;
type Edge = { agent_id: number; path: string; waits_for: number };

/** A session with a counter for request ids. */
async function session() {
  const wire = await WireSession.start();
  let id = 100;
  const call = (method: string, params: Json) => wire.call(id++, method, params);
  /** Send a lock_acquire that waits; its reply comes later. */
  const wait = (agent: number, paths: string[], mode = "exclusive") => {
    wire.send(req(id++, "lock_acquire", { agent_id: agent, paths, mode, wait_ms: WAIT }));
  };
  const take = (agent: number, paths: string[], mode = "exclusive") =>
    call("lock_acquire", { agent_id: agent, paths, mode });
  return { wire, call, wait, take };
}

/** The reply of a refused acquire: error 1010 naming the cycle. */
function refused(message: string, cycle: Edge[]): Json {
  return {
    error: {
      code: 1010,
      message: `lock_acquire: ${message}`,
      data: { method: "lock_acquire", error: "deadlock", cycle },
    },
  };
}

const waitWords = (e: Edge) => `agent ${e.agent_id} waits for agent ${e.waits_for} on ${JSON.stringify(e.path)}`;
const words = (cycle: Edge[]) =>
  `waiting would close a cycle of waits: ${cycle.map((e) => waitWords(e)).join(", ")}; refused, nothing changed`;

describe("deadlock over the wire", () => {
  it("refuses the wait that closes a two-agent cycle, tells subscribers, and changes nothing", async () => {
    const { wire, call, wait, take } = await session();
    expect((await call("initialize", { events: true })).result).toBeDefined();
    expect((await take(1, ["a"])).result).toMatchObject({ granted: true });
    expect((await take(2, ["b"])).result).toMatchObject({ granted: true });
    wait(1, ["b"]);
    const before = wire.notifications.length;
    const cycle = [
      { agent_id: 2, path: "a", waits_for: 1 },
      { agent_id: 1, path: "b", waits_for: 2 },
    ];
    const reply = await call("lock_acquire", { agent_id: 2, paths: ["a"], wait_ms: WAIT });
    expect(reply).toMatchObject(refused(words(cycle), cycle));
    expect(wire.notifications.slice(before)).toEqual([
      {
        jsonrpc: "2.0",
        method: "lock/deadlock",
        params: {
          type: "lock/deadlock",
          agent_id: 2,
          paths: ["a"],
          mode: "exclusive",
          cycle,
          event_seq: expect.any(Number),
          at_ms: 0,
        },
      },
    ]);
    expect((await call("lock_info", { path: "b" })).result).toMatchObject({ holders: [{ agent_id: 2 }], waiters: 1 });
    expect((await call("lock_info", { path: "a" })).result).toMatchObject({ holders: [{ agent_id: 1 }], waiters: 0 });
    expect((await call("lock_release", { agent_id: 2, path: "b" })).result).toBe(true);
    expect(await wire.next()).toMatchObject({ id: 103, result: { granted: true, locks: [{ path: "b" }] } });
  });

  it("refuses the wait that closes a three-agent cycle", async () => {
    const { call, wait, take } = await session();
    for (const [agent, path] of [
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ] as const) {
      await take(agent, [path]);
    }
    wait(1, ["b"]);
    wait(2, ["c"]);
    const cycle = [
      { agent_id: 3, path: "a", waits_for: 1 },
      { agent_id: 1, path: "b", waits_for: 2 },
      { agent_id: 2, path: "c", waits_for: 3 },
    ];
    expect(await call("lock_acquire", { agent_id: 3, paths: ["a"], wait_ms: WAIT })).toMatchObject(
      refused(words(cycle), cycle),
    );
    expect((await call("lock_info", { path: "c" })).result).toMatchObject({ holders: [{ agent_id: 3 }], waiters: 1 });
  });

  it("refuses the second of two shared holders asking for exclusive: each waits for the other's share", async () => {
    const { wire, call, wait, take } = await session();
    await take(1, ["f"], "shared");
    await take(2, ["f"], "shared");
    wait(1, ["f"]);
    const cycle = [
      { agent_id: 2, path: "f", waits_for: 1 },
      { agent_id: 1, path: "f", waits_for: 2 },
    ];
    expect(await call("lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: WAIT })).toMatchObject(
      refused(words(cycle), cycle),
    );
    // Agent 2 still shares f; once it lets go, agent 1's upgrade goes through.
    expect((await call("lock_info", { path: "f" })).result).toMatchObject({
      mode: "shared",
      holders: [{ agent_id: 1 }, { agent_id: 2 }],
      waiters: 1,
    });
    await call("lock_release", { agent_id: 2, path: "f" });
    expect(await wire.next()).toMatchObject({
      result: { granted: true, locks: [{ path: "f", mode: "exclusive", fence: 1 }] },
    });
  });

  it("refuses a cycle through a directory: a lock on a directory and a lock on a file below another", async () => {
    const { call, wait, take } = await session();
    await take(1, ["src/a.rs"]);
    await take(2, ["docs"]);
    wait(1, ["docs/readme.md"]);
    const cycle = [
      { agent_id: 2, path: "src", waits_for: 1 },
      { agent_id: 1, path: "docs/readme.md", waits_for: 2 },
    ];
    expect(await call("lock_acquire", { agent_id: 2, paths: ["src"], wait_ms: WAIT })).toMatchObject(
      refused(words(cycle), cycle),
    );
    // A wait that closes no cycle is queued as before.
    expect((await call("lock_check", { agent_id: 3, paths: ["src"] })).result).toEqual([
      { path: "src/a.rs", holder: 1, mode: "exclusive", expires_at_ms: 30_000, queued: false },
    ]);
  });

  it(
    "refuses a cycle that closes through a request queued ahead (no barging): " + "the free path is wanted by a waiter",
    async () => {
      const { call, wait, take } = await session();
      await take(1, ["a"]);
      wait(2, ["a", "b"]);
      // b is free, but agent 2's queued request wants it: agent 1 would wait behind agent 2, who waits for agent 1's a.
      const cycle = [
        { agent_id: 1, path: "b", waits_for: 2 },
        { agent_id: 2, path: "a", waits_for: 1 },
      ];
      expect(await call("lock_acquire", { agent_id: 1, paths: ["b"], wait_ms: WAIT })).toMatchObject(
        refused(words(cycle), cycle),
      );
      // Without wait_ms the same request is refused as before, naming the queued request.
      expect((await take(1, ["b"])).result).toEqual({
        granted: false,
        locks: [],
        conflicts: [{ path: "b", holder: 2, mode: "exclusive", expires_at_ms: null, queued: true }],
      });
      // And a path inside a directory one holds, wanted by a request queued for the directory.
      await take(3, ["d"]);
      wait(4, ["d"]);
      const inside = [
        { agent_id: 3, path: "d/f", waits_for: 4 },
        { agent_id: 4, path: "d", waits_for: 3 },
      ];
      expect(await call("lock_acquire", { agent_id: 3, paths: ["d/f"], wait_ms: WAIT })).toMatchObject(
        refused(words(inside), inside),
      );
    },
  );

  it("counts the refusal among the errors by code", async () => {
    const { call, wait, take } = await session();
    await take(1, ["a"]);
    await take(2, ["b"]);
    wait(1, ["b"]);
    await call("lock_acquire", { agent_id: 2, paths: ["a"], wait_ms: WAIT });
    expect((await call("metrics", {})).result).toMatchObject({ errors: { 1010: 1 }, waits: { waiting: 1 } });
  });
});
