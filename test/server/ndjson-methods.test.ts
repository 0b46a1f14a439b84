// Every method over raw NDJSON lines, through a session in this process, on
// the manual clock.
import { describe, expect, it } from "vitest";
import { WireSession } from "../support/wire-session.js";

const ok = (result: unknown, id: number) => ({ jsonrpc: "2.0", id, result });

describe("every method over NDJSON", () => {
  it("answers each upstream and registry method with the documented shape", async () => {
    const s = await WireSession.start({ runtime: { config: { default_lock_ttl_ms: 1000, agent_timeout_ms: 5000 } } });
    const init = await s.call(1, "initialize", { client_name: "test", protocol_version: "1" });
    expect(init.result).toMatchObject({
      server: { name: "harn-registry" },
      protocol_version: "1",
      framing: "ndjson",
      clock: "manual",
      config: { default_lock_ttl_ms: 1000, agent_timeout_ms: 5000 },
    });
    expect(init.result.methods).toContain("lock_try");

    expect(await s.call(2, "agent_register", { name: "editor" })).toEqual(ok(1, 2));
    expect(await s.call(3, "agent_register")).toEqual(ok(2, 3));
    expect(await s.call(4, "agent_register", { name: "pinned", agent_id: 10 })).toEqual(ok(10, 4));
    expect(await s.call(5, "agent_heartbeat", { agent_id: 42 })).toEqual(ok(true, 5));
    expect(await s.call(6, "lock_try", { agent_id: 1, path: "./src//a.rs", ttl_ms: 2000 })).toEqual(
      ok({ locked: true, holder: 1 }, 6),
    );
    expect(await s.call(7, "lock_try", { agent_id: 2, path: "src/a.rs" })).toEqual(ok({ locked: false, holder: 1 }, 7));
    expect(await s.call(8, "lock_try", { agent_id: 2, path: "src/b.rs" })).toEqual(ok({ locked: true, holder: 2 }, 8));
    expect(await s.call(9, "lock_holder", { path: "src\\a.rs" })).toEqual(ok(1, 9));
    expect(await s.call(10, "lock_holder", { path: "nobody.rs" })).toEqual(ok(null, 10));
    expect(await s.call(11, "lock_list", { prefix: "src" })).toEqual(
      ok(
        [
          { path: "src/a.rs", agent_id: 1, expires_at_ms: 2000 },
          { path: "src/b.rs", agent_id: 2, expires_at_ms: 1000 },
        ],
        11,
      ),
    );
    expect((await s.call(12, "lock_list", { agent_id: 2 })).result).toEqual([
      { path: "src/b.rs", agent_id: 2, expires_at_ms: 1000 },
    ]);
    expect(
      await s.call(13, "version_record", {
        agent_id: 1,
        path: "src/a.rs",
        op: "patch",
        hash: 18446744073709551615n.toString(),
        size: 7,
      }),
    ).toEqual(ok(1, 13));
    s.sendRaw(
      '{"jsonrpc":"2.0","id":14,"method":"version_record",' +
        '"params":{"agent_id":0,"path":"b","hash":18446744073709551614}}\n',
    );
    expect(await s.next()).toEqual(ok(2, 14));
    expect(await s.call(15, "current_seq")).toEqual(ok(2, 15));
    expect(await s.call(16, "changes_since", { seq: 0 })).toEqual(
      ok(
        [
          {
            path: "src/a.rs",
            seq: 1,
            agent_id: 1,
            op: "patch",
            hash: "18446744073709551615",
            size: 7,
            timestamp_ms: 0,
          },
          { path: "b", seq: 2, agent_id: 0, op: "write", hash: "18446744073709551614", size: 0, timestamp_ms: 0 },
        ],
        16,
      ),
    );
    expect((await s.call(17, "changes_since", { seq: 0, limit: 1 })).result.map((c: { seq: number }) => c.seq)).toEqual(
      [2],
    );
    expect(await s.call(18, "agent_get", { agent_id: 1 })).toEqual(
      ok(
        {
          id: 1,
          name: "editor",
          state: "active",
          last_seen_ms: 0,
          edit_count: 1,
          locks: [{ path: "src/a.rs", expires_at_ms: 2000 }],
        },
        18,
      ),
    );
    expect(await s.call(19, "agent_get", { agent_id: 99 })).toEqual(ok(null, 19));
    expect((await s.call(20, "agent_list")).result.map((a: { id: number }) => a.id)).toEqual([1, 2, 10, 42]);
    expect(await s.call(21, "status")).toEqual(
      ok(
        {
          file_count: 0,
          current_seq: 2,
          last_indexed_at_ms: 0,
          git_head: null,
          agents: [
            { id: 1, name: "editor", state: "active", last_seen_ms: 0, edit_count: 1, lock_count: 1 },
            { id: 2, name: "agent", state: "active", last_seen_ms: 0, edit_count: 0, lock_count: 1 },
            { id: 10, name: "pinned", state: "active", last_seen_ms: 0, edit_count: 0, lock_count: 0 },
            { id: 42, name: "agent-42", state: "active", last_seen_ms: 0, edit_count: 0, lock_count: 0 },
          ],
        },
        21,
      ),
    );

    expect(await s.call(22, "clock_set", { now_ms: 1000 })).toEqual(ok(1000, 22));
    expect(await s.call(23, "lock_holder", { path: "src/b.rs" })).toEqual(ok(null, 23));
    expect(await s.call(24, "agent_heartbeat", { agent_id: 2 })).toEqual(ok(true, 24));
    expect(await s.call(25, "clock_set", { now_ms: 5001 })).toEqual(ok(5001, 25));
    expect(await s.call(26, "reap")).toEqual(ok({ crashed: [1, 10, 42] }, 26));
    expect(await s.call(27, "reap")).toEqual(ok({ crashed: [] }, 27));
    expect((await s.call(28, "clock_set", { now_ms: 10 })).error).toMatchObject({
      code: 1002,
      data: { method: "clock_set", error: "clock_backwards" },
    });

    const snapshot = (await s.call(29, "snapshot")).result;
    expect(snapshot).toMatchObject({
      format_version: 2,
      taken_at_ms: 5001,
      agents: { next_id: 43, next_fence: 3 },
      versions: { current_seq: 2 },
    });
    expect(await s.call(30, "agent_unregister", { agent_id: 2 })).toEqual(ok(true, 30));
    expect(await s.call(31, "agent_unregister", { agent_id: 2 })).toEqual(ok(true, 31));
    expect(await s.call(32, "lock_release", { agent_id: 1, path: "src/a.rs" })).toEqual(ok(true, 32));
    expect(await s.call(33, "restore", { snapshot })).toEqual(ok({ agents: 4, locks: 0, current_seq: 2 }, 33));
    expect((await s.call(34, "snapshot")).result).toEqual(snapshot);

    expect(await s.call(35, "shutdown")).toEqual(ok(null, 35));
    expect((await s.call(36, "status")).error).toMatchObject({ code: 1004, data: { error: "shutting_down" } });
    s.send({ jsonrpc: "2.0", method: "exit" });
    expect(await s.exited).toBe(0);
    expect(s.allMessages()).toHaveLength(36);
  });

  it("restores a harn-hostlib snapshot.json with numeric 64-bit hashes, exactly", async () => {
    const sidecar = await WireSession.start();
    const hostlib =
      '{"version":1,"files":{},"agents":{"next_id":2,"agents":[{"id":1,"name":"ide","state":"active",' +
      '"last_seen_ms":0,"edit_count":1,"locked_paths":{"a.rs":60000}}]},' +
      '"versions":{"current_seq":1,"history":{"a.rs":[{"seq":1,"agent_id":1,"timestamp_ms":0,"op":"write",' +
      '"hash":12345678901234567890,"size":3}]}}}';
    sidecar.sendRaw(`{"jsonrpc":"2.0","id":1,"method":"restore","params":{"snapshot":${hostlib}}}\n`);
    expect(await sidecar.next()).toEqual(ok({ agents: 1, locks: 1, current_seq: 1 }, 1));
    expect((await sidecar.call(2, "changes_since")).result[0].hash).toBe("12345678901234567890");
  });

  it(
    "restore refuses a snapshot without its required sections, " + "naming the missing one, and nothing changes",
    async () => {
      const sidecar = await WireSession.start();
      await sidecar.call(1, "agent_register", { name: "a" });
      await sidecar.call(2, "lock_try", { agent_id: 1, path: "kept" });
      const before = (await sidecar.call(3, "snapshot")).result;
      const refused: [unknown, string][] = [
        [
          {},
          "snapshot.agents is required: a snapshot without format_version is read as harn-hostlib's, " +
            "which must have its agents and versions sections",
        ],
        [
          { agents: {} },
          "snapshot.versions is required: a snapshot without format_version is read as harn-hostlib's, " +
            "which must have its agents and versions sections",
        ],
        [{ ...before, versions: undefined }, "snapshot.versions is required"],
      ];
      for (const [index, [snapshot, message]] of refused.entries()) {
        const reply = await sidecar.call(10 + index, "restore", { snapshot });
        expect(reply.error).toMatchObject({ code: -32602, message: `restore: ${message}` });
        expect(sidecar.notifications).toEqual([]);
      }
      expect((await sidecar.call(20, "snapshot")).result).toEqual(before);
    },
  );

  it("restore with reap: false keeps restored agents alive", async () => {
    const sidecar = await WireSession.start();
    await sidecar.call(1, "agent_register", { name: "a" });
    const snapshot = (await sidecar.call(2, "snapshot")).result;
    await sidecar.call(3, "clock_set", { now_ms: 100_000 });
    expect((await sidecar.call(4, "restore", { snapshot, reap: false })).result).toEqual({
      agents: 1,
      locks: 0,
      current_seq: 0,
    });
    expect((await sidecar.call(5, "agent_get", { agent_id: 1 })).result).toMatchObject({
      state: "active",
      last_seen_ms: 100_000,
    });
    expect((await sidecar.call(6, "restore", { snapshot })).result).toEqual({ agents: 1, locks: 0, current_seq: 0 });
    expect((await sidecar.call(7, "agent_get", { agent_id: 1 })).result).toMatchObject({ state: "crashed" });
  });

  it("clock_set on the system clock is a domain error", async () => {
    const sidecar = await WireSession.start({ runtime: { clock: "system" } });
    expect((await sidecar.call(1, "clock_set", { now_ms: 5 })).error).toEqual({
      code: 1001,
      message: "clock_set: the sidecar runs on the system clock; start it with --clock=manual to set the time",
      data: { method: "clock_set", error: "clock_not_manual" },
    });
  });
});
