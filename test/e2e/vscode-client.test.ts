// The built bin driven by vscode-jsonrpc's own client (Content-Length), through
// our typed client, which is built on it.
import { ResponseError } from "vscode-jsonrpc/node";
import { afterEach, describe, expect, it } from "vitest";
import { methodNames } from "../../protocol/methods.js";
import { type Sidecar, spawnSidecar } from "../../src/client/index.js";

let sidecar: Sidecar | undefined;
afterEach(() => {
  sidecar?.child.kill("SIGKILL");
  sidecar = undefined;
});

describe("vscode-jsonrpc client over Content-Length", () => {
  it("runs a session: register, lock, contend, record, snapshot, restore, shutdown, exit 0", async () => {
    sidecar = spawnSidecar({ args: ["--clock=manual"], stderr: "pipe" });
    const { client } = sidecar;
    const init = await client.request("initialize", { client_name: "vitest" });
    expect(init.framing).toBe("content-length");
    const editor = await client.request("agent_register", { name: "editor" });
    const helper = await client.request("agent_register", { name: "helper" });
    expect(await client.request("lock_try", { agent_id: editor, path: "src/main.rs", ttl_ms: 500 })).toEqual({
      locked: true,
      holder: editor,
    });
    expect(await client.request("lock_try", { agent_id: helper, path: "src/main.rs" })).toEqual({
      locked: false,
      holder: editor,
    });
    expect(await client.request("clock_set", { now_ms: 500 })).toBe(500);
    expect(await client.request("lock_try", { agent_id: helper, path: "src/main.rs" })).toEqual({
      locked: true,
      holder: helper,
    });
    expect(
      await client.request("version_record", {
        agent_id: helper,
        path: "src/main.rs",
        hash: 14695981039346656037n,
        size: 12,
      }),
    ).toBe(1);
    const [change] = await client.request("changes_since", { seq: 0 });
    expect(change).toEqual({
      path: "src/main.rs",
      seq: 1,
      agent_id: helper,
      op: "write",
      hash: "14695981039346656037",
      size: 12,
      timestamp_ms: 500,
    });
    const snapshot = await client.request("snapshot");
    expect(await client.request("agent_unregister", { agent_id: helper })).toBe(true);
    expect(await client.request("restore", { snapshot })).toEqual({ agents: 2, locks: 1, current_seq: 1 });
    expect(await client.request("lock_holder", { path: "src/main.rs" })).toBe(helper);
    expect(await client.request("status")).toMatchObject({ file_count: 0, current_seq: 1, git_head: null });
    expect(await sidecar.close()).toBe(0);
  });

  it("calls every method through the typed client", async () => {
    sidecar = spawnSidecar({ args: ["--clock=manual"], stderr: "pipe" });
    const { client } = sidecar;
    const called = new Set<string>();
    const call = async <T>(method: string, reply: Promise<T>): Promise<T> => {
      called.add(method);
      return reply;
    };
    expect(await call("initialize", client.request("initialize", { events: true }))).toMatchObject({
      framing: "content-length",
    });
    expect(await call("agent_register", client.request("agent_register", { name: "a" }))).toBe(1);
    expect(await call("agent_heartbeat", client.request("agent_heartbeat", { agent_id: 2 }))).toBe(true);
    expect(await call("lock_try", client.request("lock_try", { agent_id: 1, path: "src/a.rs" }))).toEqual({
      locked: true,
      holder: 1,
    });
    expect(
      await call("lock_acquire", client.request("lock_acquire", { agent_id: 2, paths: ["docs"], mode: "shared" })),
    ).toMatchObject({ granted: true });
    expect(await call("lock_check", client.request("lock_check", { agent_id: 2, paths: ["src"] }))).toMatchObject([
      { path: "src/a.rs", holder: 1 },
    ]);
    expect(await call("lock_info", client.request("lock_info", { path: "docs" }))).toMatchObject({
      mode: "shared",
      waiters: 0,
    });
    expect(await call("lock_holder", client.request("lock_holder", { path: "src" }))).toBe(1);
    expect(await call("lock_list", client.request("lock_list"))).toHaveLength(2);
    expect(await call("lock_renew", client.request("lock_renew", { agent_id: 1, ttl_ms: 99 }))).toMatchObject({
      renewed: [{ path: "src/a.rs", expires_at_ms: 30_000 }],
    }); // never shortened
    expect(
      await call("version_record", client.request("version_record", { agent_id: 1, path: "src/a.rs", fence: 1 })),
    ).toBe(1);
    expect(await call("changes_since", client.request("changes_since"))).toHaveLength(1);
    expect(await call("current_seq", client.request("current_seq"))).toBe(1);
    expect(await call("current_agent_set", client.request("current_agent_set", { agent_id: 1 }))).toBeNull();
    expect(await call("current_agent_id", client.request("current_agent_id"))).toBe(1);
    expect(await call("host/capabilities", client.request("host/capabilities"))).toMatchObject({
      code_index: expect.arrayContaining(["lock_try", "current_agent_id"]),
    });
    expect(await call("builtin_call", client.builtinCall("lock_holder", { path: "src" }))).toBe(1);
    expect(await call("host/call", client.hostCall("s1", "current_agent_id"))).toBeNull();
    expect(await call("status", client.request("status"))).toMatchObject({ agents: [{ id: 1 }, { id: 2 }] });
    expect(await call("agent_get", client.request("agent_get", { agent_id: 1 }))).toMatchObject({ name: "a" });
    expect(await call("agent_list", client.request("agent_list"))).toHaveLength(2);
    expect(await call("events_subscribe", client.request("events_subscribe"))).toMatchObject({
      latest_seq: expect.any(Number),
    });
    expect((await call("events_since", client.request("events_since", { seq: 0 }))).events.length).toBeGreaterThan(3);
    const snapshot = await call("snapshot", client.request("snapshot"));
    expect(await call("clock_set", client.request("clock_set", { now_ms: 99 }))).toBe(99);
    expect(await call("reap", client.request("reap"))).toEqual({ crashed: [] });
    expect(await call("metrics", client.request("metrics"))).toMatchObject({
      requests: { agent_list: 1, snapshot: 1 },
      locks: { granted: expect.any(Number) },
    });
    expect(
      await call("lock_force_release", client.request("lock_force_release", { path: "docs", reason: "test" })),
    ).toEqual({ released: [{ path: "docs", agent_id: 2 }] });
    expect(await call("lock_release", client.request("lock_release", { agent_id: 1, path: "src/a.rs" }))).toBe(true);
    expect(await call("lock_release_all", client.request("lock_release_all", { agent_id: 2 }))).toEqual({
      released: [],
    });
    expect(await call("agent_unregister", client.request("agent_unregister", { agent_id: 2 }))).toBe(true);
    expect(await call("restore", client.request("restore", { snapshot }))).toMatchObject({ agents: 2 });
    expect(await call("shutdown", client.request("shutdown"))).toBeNull();
    expect([...called].sort()).toEqual([...methodNames].sort());
    await client.exit();
  });

  it("surfaces errors as ResponseError with code, message and data", async () => {
    sidecar = spawnSidecar({ stderr: "pipe" });
    // @ts-expect-error lock_try needs params; the type says so and the server agrees
    const missing = sidecar.client.request("lock_try").catch((e: unknown) => e);
    const error = (await missing) as ResponseError<{ field: string }>;
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.code).toBe(-32602);
    expect(error.message).toBe("lock_try: agent_id is required");
    expect(error.data).toEqual({ method: "lock_try", field: "agent_id", problem: "is required" });
    const unknown = (await sidecar.client.connection.sendRequest("nope", {}).catch((e: unknown) => e)) as ResponseError;
    expect(unknown.code).toBe(-32601);
  });

  it("builtinCall and hostCall: typed results as the bare method's, errors as harn-hostlib's", async () => {
    sidecar = spawnSidecar({ args: ["--clock=manual"], stderr: "pipe" });
    const { client } = sidecar;
    expect(await client.builtinCall("agent_register", { name: "vm", agent_id: 3 })).toBe(3);
    const lock: { locked: boolean; holder: number | null } = await client.builtinCall("lock_try", {
      agent_id: 3,
      path: "src/a.rs",
    });
    expect(lock).toEqual({ locked: true, holder: 3 });
    expect(
      await client.hostCall("s", "version_record", { agent_id: 3, path: "src/a.rs", hash: 18446744073709551615n }),
    ).toBe(1);
    expect(await client.builtinCall("changes_since")).toMatchObject([{ hash: "18446744073709551615" }]);
    expect(await client.hostCall("s", "current_agent_set", { agent_id: 3 })).toBeNull();
    expect(await client.hostCall("s", "current_agent_id")).toBe(3);
    expect(await client.builtinCall("current_agent_id")).toBeNull();
    const error = (await client
      .builtinCall("lock_try", { agent_id: 3, path: "" })
      .catch((e: unknown) => e)) as ResponseError<Record<string, unknown>>;
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.code).toBe(-32602);
    expect(error.message).toBe("hostlib: hostlib_code_index_lock_try: invalid parameter 'path': must not be empty");
    expect(error.data).toMatchObject({
      kind: "invalid_parameter",
      builtin: "hostlib_code_index_lock_try",
      param: "path",
    });
    expect(await sidecar.close()).toBe(0);
  });

  it("answers a pipelined burst in order, all of it", async () => {
    sidecar = spawnSidecar({ stderr: "pipe" });
    const { client } = sidecar;
    const replies = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        client.request("lock_try", { agent_id: (i % 7) + 1, path: `f${i % 13}` }),
      ),
    );
    expect(replies).toHaveLength(2_000);
    const holders = new Map<string, number>();
    replies.forEach((reply, i) => {
      const path = `f${i % 13}`;
      const agent = (i % 7) + 1;
      const holder = holders.get(path);
      if (holder === undefined || holder === agent) {
        expect(reply).toEqual({ locked: true, holder: agent });
        holders.set(path, agent);
      } else {
        expect(reply).toEqual({ locked: false, holder });
      }
    });
    expect(await sidecar.close()).toBe(0);
  });

  it("exits 1 on exit without shutdown (the LSP rule)", async () => {
    sidecar = spawnSidecar({ stderr: "pipe" });
    await sidecar.client.request("current_seq");
    await sidecar.client.exit();
    const code = await new Promise((resolve) => sidecar?.child.once("exit", resolve));
    expect(code).toBe(1);
  });
});
