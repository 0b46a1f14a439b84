// Harn's own wire: a Harn VM's host bridge sends each builtin it lacks as
// `builtin_call {name: "hostlib_code_index_<m>", args: [params]}`, and an ACP
// host gets a script's host_call as `host/call {sessionId, name:
// "code_index.<m>", args}`; a host forwards either line unchanged. The
// scenarios of harn-hostlib's tests/code_index_live_state.rs (agents, locks,
// versions, the current agent), ported to speak ONLY those envelopes: no
// initialize, integer ids, both framings, every request and result held to
// harn-hostlib's own schemas (test/fixtures/hostlib-schemas). Then the
// errors as harn-hostlib words them, the bounds, and the slots.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILTIN_PREFIX, hostCallableNames, methodNames } from "../../protocol/methods.js";
import { checkHostlib, hasHostlibSchema } from "../support/hostlib-schemas.js";
import { tempDir } from "../support/temp-dir.js";
import { type Json, type WireFraming, frame, frameBodies, req } from "../support/wire-frames.js";
import { STORES, type StoreKind, WireSession } from "../support/wire-session.js";

/** How a scenario calls a method: the params as JSON text (so that a u64 can go as a bare number). */
type Call = (method: string, paramsText?: string) => Promise<Json>;

/** A peer that speaks one envelope: each call is one line as a Harn host would forward it, its id a fresh integer. */
function caller(s: WireSession, envelope: "builtin_call" | "host/call", sessionId?: string): Call {
  let id = 0;
  return async (method, paramsText) => {
    id++;
    const sessionField = sessionId === undefined ? "" : `"sessionId":${JSON.stringify(sessionId)},`;
    const argsField = paramsText === undefined ? "" : `,"args":${paramsText}`;
    const body =
      envelope === "builtin_call"
        ? `{"jsonrpc":"2.0","id":${id},"method":"builtin_call",` +
          `"params":{"name":"${BUILTIN_PREFIX}${method}","args":[${paramsText ?? ""}]}}`
        : `{"jsonrpc":"2.0","id":${id},"method":"host/call",` +
          `"params":{${sessionField}"name":"code_index.${method}"${argsField}}}`;
    s.send(body);
    const reply = await s.next();
    expect(reply.id).toBe(id);
    return reply;
  };
}

/** Call and expect a result valid under harn-hostlib's schemas (request and response) when it has them. */
async function ok(call: Call, method: string, params?: Json, paramsText?: string): Promise<Json> {
  const text = paramsText ?? (params === undefined ? undefined : JSON.stringify(params));
  if (hasHostlibSchema(method))
    expect(checkHostlib(`${method}.request.json`, params ?? {}), `${method} request`).toBeNull();
  const reply = await call(method, text);
  expect(reply.error, `${method}: ${JSON.stringify(reply.error)}`).toBeUndefined();
  if (hasHostlibSchema(method))
    expect(
      checkHostlib(`${method}.response.json`, reply.result),
      `${method} → ${JSON.stringify(reply.result)}`,
    ).toBeNull();
  return reply.result;
}

/**
 * The scenarios of code_index_live_state.rs that concern agents, locks, versions and the current agent, on a fresh
 * session each.
 */
const scenarios: [string, (call: Call, s: WireSession) => Promise<void>][] = [
  [
    "agent_register with an explicit id round-trips through status",
    async (call) => {
      expect(await ok(call, "agent_register", { name: "daemon", agent_id: 42 })).toBe(42);
      const status = await ok(call, "status");
      expect(status.agents.find((agent: Json) => agent.id === 42)).toMatchObject({ name: "daemon", state: "active" });
    },
  ],
  [
    "lock_try returns the holder when blocked; after a release the other agent takes it",
    async (call) => {
      expect(await ok(call, "agent_register", { name: "alice", agent_id: 1 })).toBe(1);
      expect(await ok(call, "agent_register", { name: "bob", agent_id: 2 })).toBe(2);
      expect(await ok(call, "lock_try", { agent_id: 1, path: "src/main.ts", ttl_ms: 60_000 })).toEqual({
        locked: true,
        holder: 1,
      });
      expect(await ok(call, "lock_try", { agent_id: 2, path: "src/main.ts" })).toEqual({ locked: false, holder: 1 });
      expect(await ok(call, "lock_release", { agent_id: 1, path: "src/main.ts" })).toBe(true);
      expect(await ok(call, "lock_try", { agent_id: 2, path: "src/main.ts" })).toEqual({ locked: true, holder: 2 });
    },
  ],
  [
    "agent_unregister removes the agent from status",
    async (call) => {
      const id = await ok(call, "agent_register", { name: "worker" });
      expect(await ok(call, "agent_heartbeat", { agent_id: id })).toBe(true);
      expect(await ok(call, "agent_unregister", { agent_id: id })).toBe(true);
      expect((await ok(call, "status")).agents.map((agent: Json) => agent.id)).not.toContain(id);
    },
  ],
  [
    "version_record then changes_since round-trips, a u64 hash sent as a bare number kept exact",
    async (call) => {
      const agent = await ok(call, "agent_register", { name: "editor" });
      const seq1 = await ok(call, "version_record", {
        agent_id: agent,
        path: "src/util.ts",
        op: "write",
        hash: "12345",
        size: 42,
      });
      const params2 = { agent_id: agent, path: "src/main.ts", op: "patch", hash: 1 };
      const text2 = `{"agent_id":${agent},"path":"src/main.ts","op":"patch","hash":14695981039346656037}`;
      const seq2 = await ok(call, "version_record", params2, text2);
      expect(seq2).toBeGreaterThan(seq1);
      expect(await ok(call, "current_seq")).toBe(seq2);
      const changes = await ok(call, "changes_since", { seq: 0 });
      expect(changes.map((change: Json) => [change.seq, change.op, change.hash, change.size])).toEqual([
        [seq1, "write", "12345", 42],
        [seq2, "patch", "14695981039346656037", 0],
      ]);
      const status = await ok(call, "status");
      expect(status.agents.find((a: Json) => a.id === agent).edit_count).toBe(2);
    },
  ],
  [
    "changes_since respects limit (the most recent)",
    async (call) => {
      for (let i = 0; i < 5; i++) await ok(call, "version_record", { agent_id: 1, path: `f${i}.rs` });
      const limited = await ok(call, "changes_since", { seq: 0, limit: 2 });
      expect(limited.map((change: Json) => change.seq)).toEqual([4, 5]);
    },
  ],
  [
    "current_agent_id reads the slot: null, 7 once bound, null once unbound",
    async (call) => {
      expect(await ok(call, "current_agent_id")).toBeNull();
      expect(await ok(call, "current_agent_set", { agent_id: 7 })).toBeNull();
      expect(await ok(call, "current_agent_id")).toBe(7);
      expect(await ok(call, "current_agent_set", { agent_id: null })).toBe(7);
      expect(await ok(call, "current_agent_id")).toBeNull();
    },
  ],
];

/**
 * 400 version_record lines in one write (8 writers × 50, interleaved), as harn-hostlib's concurrent test: distinct
 * seqs, current_seq their max.
 */
async function pipelinedVersions(s: WireSession, envelope: "builtin_call" | "host/call"): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < 50; i++) {
    for (let writer = 0; writer < 8; writer++) {
      const params = { agent_id: writer + 1, path: `src/f${writer}_${i}.rs`, op: "write" };
      expect(checkHostlib("version_record.request.json", params)).toBeNull();
      const id = 1000 + i * 8 + writer;
      lines.push(
        JSON.stringify(
          envelope === "builtin_call"
            ? req(id, "builtin_call", { name: `${BUILTIN_PREFIX}version_record`, args: [params] })
            : req(id, "host/call", { sessionId: `w${writer}`, name: "code_index.version_record", args: params }),
        ),
      );
    }
  }
  s.sendRaw(frame(s.framing, ...lines));
  const seqs: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const reply = await s.next();
    expect(reply.id).toBe(1000 + i);
    expect(checkHostlib("version_record.response.json", reply.result)).toBeNull();
    seqs.push(reply.result);
  }
  expect(new Set(seqs).size).toBe(400);
  const current = await caller(s, envelope)("current_seq");
  expect(current.result).toBe(Math.max(...seqs));
}

/** The state a refused call must leave as it was: the snapshot, the event count and the slots. */
async function stateOf(s: WireSession): Promise<Json> {
  const [snapshot, events, own, session] = [
    await s.call("s", "snapshot"),
    await s.call("e", "events_since", { seq: 0 }),
    await s.call("c", "current_agent_id"),
    await s.call("h", "host/call", { sessionId: "a", name: "code_index.current_agent_id" }),
  ];
  return { snapshot: snapshot.result, latest: events.result.latest_seq, own: own.result, session: session.result };
}

/** A session with some state: agents 1 and 2, locks, an edit, both kinds of slot bound. */
async function busy(store: StoreKind): Promise<WireSession> {
  const s = await WireSession.start({ store });
  const call = caller(s, "builtin_call");
  await ok(call, "agent_register", { name: "one" });
  await ok(call, "agent_register", { name: "two" });
  await ok(call, "lock_try", { agent_id: 1, path: "src/a.rs" });
  await ok(call, "lock_acquire", { agent_id: 2, paths: ["docs"] });
  await ok(call, "version_record", { agent_id: 1, path: "src/a.rs", hash: "5" });
  await ok(call, "current_agent_set", { agent_id: 1 });
  await ok(caller(s, "host/call", "a"), "current_agent_set", { agent_id: 2 });
  return s;
}

const hostlibData = (method: string, kind: string, extra: Json = {}) => ({
  method,
  kind,
  builtin: `hostlib_code_index_${method}`,
  ...extra,
});

/** The slots of the connection and of host/call sessions a and b. */
async function slots(s: WireSession): Promise<[Json, Json, Json]> {
  const own = (await s.call("own", "builtin_call", { name: "hostlib_code_index_current_agent_id", args: [] })).result;
  const a = (await s.call("a", "host/call", { sessionId: "a", name: "code_index.current_agent_id" })).result;
  const b = (await s.call("b", "host/call", { sessionId: "b", name: "code_index.current_agent_id" })).result;
  return [own, a, b];
}
async function bind(s: WireSession, own: number | null, a: number | null, b: number | null): Promise<void> {
  await s.call("x", "current_agent_set", { agent_id: own });
  await s.call("y", "host/call", { sessionId: "a", name: "code_index.current_agent_set", args: { agent_id: a } });
  await s.call("z", "host/call", { sessionId: "b", name: "code_index.current_agent_set", args: { agent_id: b } });
}

describe.each(STORES)("%s store", (store) => {
  describe.each(["ndjson", "content-length"] as WireFraming[])("builtin_call only, %s, no initialize", (wire) => {
    it.each(scenarios)("%s", async (_name, scenario) => {
      const s = await WireSession.start({ store, wire });
      await scenario(caller(s, "builtin_call"), s);
      expect(s.allMessages().every((message) => message.method === undefined)).toBe(true);
    });

    it("400 pipelined version_record calls get distinct seqs; current_seq is their max", async () => {
      const s = await WireSession.start({ store, wire });
      await pipelinedVersions(s, "builtin_call");
    });
  });

  describe.each(["ndjson", "content-length"] as WireFraming[])("host/call only, %s, no initialize", (wire) => {
    it.each(scenarios)("%s", async (_name, scenario) => {
      const s = await WireSession.start({ store, wire });
      await scenario(caller(s, "host/call", "session-a"), s);
    });

    it("each sessionId of a connection has its own slot, apart from the connection's own", async () => {
      const s = await WireSession.start({ store, wire });
      const a = caller(s, "host/call", "session-a");
      const b = caller(s, "host/call", "session-b");
      const own = caller(s, "host/call");
      const builtin = caller(s, "builtin_call");
      expect(await ok(b, "current_agent_set", { agent_id: 9 })).toBeNull();
      for (const [, scenario] of scenarios.filter(([name]) => name.startsWith("current_agent_id")))
        await scenario(a, s);
      expect(await ok(a, "current_agent_set", { agent_id: 3 })).toBeNull();
      expect(await ok(b, "current_agent_id")).toBe(9);
      expect(await ok(a, "current_agent_id")).toBe(3);
      expect(await ok(own, "current_agent_id")).toBeNull();
      expect(await ok(builtin, "current_agent_set", { agent_id: 5 })).toBeNull();
      expect(await ok(own, "current_agent_id")).toBe(5);
      expect(await ok(b, "current_agent_set", { agent_id: null })).toBe(9);
      expect(await ok(a, "current_agent_id")).toBe(3);
      expect((await s.call(1, "current_agent_id")).result).toBe(5);
    });

    it("400 pipelined version_record calls from 8 sessions get distinct seqs; current_seq is their max", async () => {
      const s = await WireSession.start({ store, wire });
      await pipelinedVersions(s, "host/call");
    });

    it("takes args null or absent as no params", async () => {
      const s = await WireSession.start({ store, wire });
      const call = caller(s, "host/call", "x");
      expect((await call("current_seq", "null")).result).toBe(0);
      expect((await call("status")).result).toMatchObject({ agents: [] });
    });
  });

  describe("the envelopes", () => {
    it("answer byte for byte what the method answers bare (same id), for every kind of result", async () => {
      const bare = await WireSession.start({ store });
      const builtin = await WireSession.start({ store });
      const hostCall = await WireSession.start({ store });
      const calls: [string, string][] = [
        ["agent_register", '{"name":"a"}'],
        ["agent_register", '{"agent_id":7}'],
        ["lock_try", '{"agent_id":1,"path":"./src//a.rs","ttl_ms":500}'],
        ["lock_try", '{"agent_id":7,"path":"src/a.rs"}'],
        ["lock_acquire", '{"agent_id":7,"paths":["docs","src/b.rs"],"mode":"shared"}'],
        ["lock_check", '{"paths":["src"]}'],
        ["lock_info", '{"path":"docs"}'],
        ["lock_holder", '{"path":"src"}'],
        ["version_record", '{"agent_id":1,"path":"src/a.rs","hash":18446744073709551615,"size":3,"fence":1}'],
        ["changes_since", "{}"],
        ["current_seq", "{}"],
        ["agent_get", '{"agent_id":7}'],
        ["agent_list", "{}"],
        ["lock_list", '{"prefix":"src"}'],
        ["status", "{}"],
        ["events_since", '{"seq":2}'],
        ["snapshot", "{}"],
        ["clock_set", '{"now_ms":600}'],
        ["reap", "{}"],
        ["lock_renew", '{"agent_id":7}'],
        ["lock_force_release", '{"path":"docs","reason":"r"}'],
        ["lock_release_all", '{"agent_id":7}'],
        ["current_agent_set", '{"agent_id":7}'],
        ["current_agent_id", "{}"],
        ["agent_unregister", '{"agent_id":7}'],
        ["current_agent_id", "{}"],
      ];
      for (const [i, [method, params]] of calls.entries()) {
        bare.send(`{"jsonrpc":"2.0","id":${i},"method":"${method}","params":${params}}`);
        builtin.send(
          `{"jsonrpc":"2.0","id":${i},"method":"builtin_call",` +
            `"params":{"name":"hostlib_code_index_${method}","args":[${params}]}}`,
        );
        hostCall.send(
          `{"jsonrpc":"2.0","id":${i},"method":"host/call","params":{"name":"code_index.${method}","args":${params}}}`,
        );
      }
      const bodies = async (s: WireSession) => {
        await s.waitFor(calls.length);
        return frameBodies("ndjson", s.stdout);
      };
      const [bareBodies, builtinBodies, hostCallBodies] = [
        await bodies(bare),
        await bodies(builtin),
        await bodies(hostCall),
      ];
      expect(bareBodies).toHaveLength(calls.length);
      expect(bareBodies.every((body) => !body.includes('"error"'))).toBe(true);
      expect(builtinBodies).toEqual(bareBodies);
      expect(hostCallBodies).toEqual(bareBodies);
    });

    it("are listed by initialize; host/capabilities lists every method they carry, under code_index", async () => {
      const s = await WireSession.start({ store });
      const init = await s.call(1, "initialize");
      for (const method of ["builtin_call", "host/call", "host/capabilities", "current_agent_id", "current_agent_set"])
        expect(init.result.methods).toContain(method);
      expect(init.result.methods).toEqual(methodNames);
      const capabilities = (await s.call(2, "host/capabilities")).result;
      expect(capabilities).toEqual({ code_index: hostCallableNames });
      expect(capabilities.code_index).toEqual(
        expect.arrayContaining([
          "lock_try",
          "lock_acquire",
          "events_since",
          "restore",
          "current_agent_id",
          "current_agent_set",
        ]),
      );
      for (const bareOnly of ["builtin_call", "host/call", "host/capabilities", "initialize", "shutdown"])
        expect(capabilities.code_index).not.toContain(bareOnly);
      expect((await s.call(3, "host/capabilities", { x: 1 })).error.code).toBe(-32602);
    });

    it("count and time the method carried in metrics (a name that carries none counts as the envelope)", async () => {
      const s = await WireSession.start({ store });
      const builtin = caller(s, "builtin_call");
      const hostCall = caller(s, "host/call", "s");
      await builtin("lock_try", '{"agent_id":1,"path":"a"}');
      await hostCall("lock_try", '{"agent_id":2,"path":"a"}');
      await builtin("lock_release", '{"agent_id":1,"path":"a"}');
      await builtin("lock_try", '{"agent_id":0,"path":"a"}');
      await builtin("query", '{"needle":"x"}');
      await hostCall("fs.read");
      const metrics = (await s.call("m", "metrics")).result;
      expect(metrics.requests).toEqual({ lock_try: 3, lock_release: 1, builtin_call: 1, "host/call": 1, metrics: 1 });
      expect(metrics.errors).toEqual({ "-32602": 1, "-32601": 2 });
      expect(metrics.latency_us.count).toBe(6);
      expect(metrics.locks).toMatchObject({ granted: 1, refused: 1, released: 1 });
    });

    it(
      "carry a waiting lock_acquire: " +
        "$/cancelRequest with the envelope's id cancels it, answered as harn-hostlib's backend_error",
      async () => {
        const s = await WireSession.start({ store });
        const builtin = caller(s, "builtin_call");
        await builtin("lock_try", '{"agent_id":1,"path":"a"}');
        s.send(
          req(50, "builtin_call", {
            name: "hostlib_code_index_lock_acquire",
            args: [{ agent_id: 2, paths: ["a"], wait_ms: 60_000 }],
          }),
        );
        s.send(
          req(51, "host/call", {
            sessionId: "x",
            name: "code_index.lock_acquire",
            args: { agent_id: 3, paths: ["a"], wait_ms: 60_000 },
          }),
        );
        s.send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: 50 } });
        const cancelled = await s.next();
        expect(cancelled).toEqual({
          jsonrpc: "2.0",
          id: 50,
          error: {
            code: -32800,
            message: "hostlib: hostlib_code_index_lock_acquire: cancelled while waiting",
            data: { method: "lock_acquire", kind: "backend_error", builtin: "hostlib_code_index_lock_acquire" },
          },
        });
        s.send(req(52, "lock_release", { agent_id: 1, path: "a" }));
        const replies = [await s.next(), await s.next()].sort((x, y) => x.id - y.id);
        expect(replies).toMatchObject([
          { id: 51, result: { granted: true, locks: [{ path: "a", fence: 2 }] } },
          { id: 52, result: true },
        ]);
      },
    );
  });

  describe("errors, as harn-hostlib words them", () => {
    /** [envelope params, code, message, data] for builtin_call; host/call is derived where it carries the same call. */
    const refusals: [string, Json, number, string, Json][] = [
      [
        "an invalid parameter",
        { name: "hostlib_code_index_lock_try", args: [{ agent_id: 0, path: "src/a.rs" }] },
        -32602,
        "hostlib: hostlib_code_index_lock_try: invalid parameter 'agent_id': must be an integer from 1 to 2^53-1",
        hostlibData("lock_try", "invalid_parameter", {
          field: "agent_id",
          problem: "must be an integer from 1 to 2^53-1",
          param: "agent_id",
        }),
      ],
      [
        "a missing parameter",
        { name: "hostlib_code_index_lock_try", args: [{ agent_id: 1 }] },
        -32602,
        "hostlib: hostlib_code_index_lock_try: missing required parameter 'path'",
        hostlibData("lock_try", "missing_parameter", { field: "path", problem: "is required", param: "path" }),
      ],
      [
        "no params at all where some are required (args [])",
        { name: "hostlib_code_index_lock_release", args: [] },
        -32602,
        "hostlib: hostlib_code_index_lock_release: missing required parameter 'agent_id'",
        hostlibData("lock_release", "missing_parameter", {
          field: "agent_id",
          problem: "is required",
          param: "agent_id",
        }),
      ],
      [
        "a parameter the method does not take",
        { name: "hostlib_code_index_status", args: [{ verbose: true }] },
        -32602,
        "hostlib: hostlib_code_index_status: invalid parameter 'verbose': " +
          "is not a parameter of status (it takes: no parameters)",
        hostlibData("status", "invalid_parameter", {
          field: "verbose",
          problem: "is not a parameter of status (it takes: no parameters)",
          param: "verbose",
        }),
      ],
      [
        "a path outside the workspace (the core's own check)",
        { name: "hostlib_code_index_lock_try", args: [{ agent_id: 1, path: "../x" }] },
        -32602,
        "hostlib: hostlib_code_index_lock_try: invalid parameter 'path': climbs above the workspace root: \"../x\"",
        hostlibData("lock_try", "invalid_parameter", {
          field: "path",
          problem: 'climbs above the workspace root: "../x"',
          param: "path",
        }),
      ],
      [
        "a domain error (a stale fence)",
        { name: "hostlib_code_index_version_record", args: [{ agent_id: 1, path: "src/a.rs", fence: 99 }] },
        1005,
        'hostlib: hostlib_code_index_version_record: fence 99 is not a live lock of agent 1 on "src/a.rs" ' +
          "or a directory covering it; nothing was recorded",
        hostlibData("version_record", "backend_error", { error: "stale_fence" }),
      ],
      [
        "a domain error (the clock moved backwards)",
        { name: "hostlib_code_index_clock_set", args: [{ now_ms: 0 }] },
        1002,
        "hostlib: hostlib_code_index_clock_set: now_ms 0 is before the current time 10; the clock only moves forward",
        hostlibData("clock_set", "backend_error", { error: "clock_backwards" }),
      ],
      [
        "a code_index builtin not served here",
        { name: "hostlib_code_index_query", args: [{ needle: "x" }] },
        -32601,
        "hostlib: hostlib_code_index_query is not implemented yet " +
          "(harn-registry serves agents, locks and the version log and indexes no files; " +
          "host/capabilities lists what it serves)",
        {
          method: "builtin_call",
          name: "hostlib_code_index_query",
          kind: "unimplemented",
          builtin: "hostlib_code_index_query",
        },
      ],
      [
        "a method that is sent bare only (shutdown)",
        { name: "hostlib_code_index_shutdown", args: [] },
        -32601,
        "hostlib: hostlib_code_index_shutdown is not implemented yet " +
          "(harn-registry serves agents, locks and the version log and indexes no files; " +
          "host/capabilities lists what it serves)",
        {
          method: "builtin_call",
          name: "hostlib_code_index_shutdown",
          kind: "unimplemented",
          builtin: "hostlib_code_index_shutdown",
        },
      ],
      [
        "a builtin outside hostlib_code_index_",
        { name: "hostlib_fs_read", args: [{}] },
        -32601,
        'builtin_call: no builtin "hostlib_fs_read" here; ' +
          "this sidecar serves hostlib_code_index_<method> for each method host/capabilities lists",
        { method: "builtin_call", name: "hostlib_fs_read" },
      ],
      [
        "more than one argument",
        { name: "hostlib_code_index_status", args: [{}, {}] },
        -32602,
        "hostlib: hostlib_code_index_status: invalid parameter 'args': must be [], [null] or [params]: " +
          "a builtin takes one argument, its params object (null for none)",
        {
          method: "builtin_call",
          field: "args",
          problem: "must be [], [null] or [params]: a builtin takes one argument, its params object (null for none)",
          kind: "invalid_parameter",
          builtin: "hostlib_code_index_status",
          param: "args",
        },
      ],
      [
        "an argument that is not a params object",
        { name: "hostlib_code_index_status", args: [5] },
        -32602,
        "hostlib: hostlib_code_index_status: invalid parameter 'args[0]': must be an object of named parameters",
        {
          method: "builtin_call",
          field: "args[0]",
          problem: "must be an object of named parameters",
          kind: "invalid_parameter",
          builtin: "hostlib_code_index_status",
          param: "args[0]",
        },
      ],
      [
        "no name",
        { args: [] },
        -32602,
        "hostlib: builtin_call: missing required parameter 'name'",
        {
          method: "builtin_call",
          field: "name",
          problem: "is required",
          kind: "missing_parameter",
          builtin: "builtin_call",
          param: "name",
        },
      ],
      [
        "a name that is not a string",
        { name: 5, args: [] },
        -32602,
        "hostlib: builtin_call: invalid parameter 'name': must be a string",
        {
          method: "builtin_call",
          field: "name",
          problem: "must be a string",
          kind: "invalid_parameter",
          builtin: "builtin_call",
          param: "name",
        },
      ],
      [
        "params that are not an object",
        ["hostlib_code_index_status"],
        -32602,
        "hostlib: builtin_call: invalid parameter 'params': must be an object of named parameters, got an array",
        {
          method: "builtin_call",
          field: "params",
          problem: "must be an object of named parameters, got an array",
          kind: "invalid_parameter",
          builtin: "builtin_call",
          param: "params",
        },
      ],
    ];

    it.each(refusals)(
      "builtin_call with %s: keeps the code, words it as harn-hostlib, changes nothing",
      async (_what, params, code, message, data) => {
        const s = await busy(store);
        await s.call("t", "clock_set", { now_ms: 10 });
        const before = await stateOf(s);
        const reply = await s.call(7, "builtin_call", params);
        expect(reply).toEqual({ jsonrpc: "2.0", id: 7, error: { code, message, data } });
        expect(await stateOf(s)).toEqual(before);
      },
    );

    it.each(
      refusals.filter(
        ([, params]) =>
          typeof params.name === "string" &&
          params.name.startsWith("hostlib_code_index_") &&
          params.args.length <= 1 &&
          typeof (params.args[0] ?? {}) === "object",
      ),
    )("host/call with %s: the same error", async (_what, params, code, message, data) => {
      const s = await busy(store);
      await s.call("t", "clock_set", { now_ms: 10 });
      const before = await stateOf(s);
      const name = `code_index.${params.name.slice("hostlib_code_index_".length)}`;
      const reply = await s.call(8, "host/call", { sessionId: "a", name, args: params.args[0] ?? null });
      const expected = data.method === "builtin_call" ? { ...data, method: "host/call", name } : data;
      expect(reply).toEqual({ jsonrpc: "2.0", id: 8, error: { code, message, data: expected } });
      expect(await stateOf(s)).toEqual(before);
    });

    it(
      "host/call's own refusals: a name outside code_index., " + "args not an object, a sessionId not a string",
      async () => {
        const s = await busy(store);
        const before = await stateOf(s);
        expect((await s.call(1, "host/call", { name: "fs.read", args: {} })).error).toEqual({
          code: -32601,
          message:
            'host/call: no builtin "fs.read" here; ' +
            "this sidecar serves code_index.<method> for each method host/capabilities lists",
          data: { method: "host/call", name: "fs.read" },
        });
        expect((await s.call(2, "host/call", { name: "code_index.status", args: [] })).error).toMatchObject({
          code: -32602,
          message:
            "hostlib: hostlib_code_index_status: invalid parameter 'args': must be an object of named parameters",
          data: { kind: "invalid_parameter", builtin: "hostlib_code_index_status", param: "args" },
        });
        expect(
          (await s.call(3, "host/call", { sessionId: 1, name: "code_index.current_agent_id" })).error,
        ).toMatchObject({
          code: -32602,
          message: "hostlib: hostlib_code_index_current_agent_id: invalid parameter 'sessionId': must be a string",
          data: { kind: "invalid_parameter", param: "sessionId" },
        });
        expect((await s.call(4, "host/call", { args: {} })).error).toMatchObject({
          code: -32602,
          data: { kind: "missing_parameter", builtin: "host/call", param: "name" },
        });
        expect((await s.call(5, "host/call", { name: "code_index.query" })).error).toMatchObject({
          code: -32601,
          data: { kind: "unimplemented", builtin: "hostlib_code_index_query" },
        });
        expect(await stateOf(s)).toEqual(before);
      },
    );

    it("after shutdown, a carried call is refused as harn-hostlib's backend_error (shutting_down)", async () => {
      const s = await WireSession.start({ store });
      await s.call(1, "shutdown");
      expect((await s.call(2, "builtin_call", { name: "hostlib_code_index_status", args: [] })).error).toEqual({
        code: 1004,
        message: "hostlib: hostlib_code_index_status: the server is shutting down; send the exit notification",
        data: { method: "status", error: "shutting_down", kind: "backend_error", builtin: "hostlib_code_index_status" },
      });
    });

    /** Upstream's newer bounds, each a -32602 invalid_parameter naming the parameter: [method, params, param]. */
    const bounds: [string, Json, string][] = [
      ["agent_register", { agent_id: 0 }, "agent_id"],
      ["agent_heartbeat", { agent_id: 0 }, "agent_id"],
      ["agent_unregister", { agent_id: 0 }, "agent_id"],
      ["lock_try", { agent_id: 0, path: "a" }, "agent_id"],
      ["lock_try", { agent_id: -3, path: "a" }, "agent_id"],
      ["lock_release", { agent_id: 0, path: "a" }, "agent_id"],
      ["lock_acquire", { agent_id: 0, paths: ["a"] }, "agent_id"],
      ["lock_renew", { agent_id: 0 }, "agent_id"],
      ["lock_release_all", { agent_id: 0 }, "agent_id"],
      ["lock_check", { agent_id: 0, paths: ["a"] }, "agent_id"],
      ["lock_list", { agent_id: 0 }, "agent_id"],
      ["agent_get", { agent_id: 0 }, "agent_id"],
      ["current_agent_set", { agent_id: 0 }, "agent_id"],
      ["version_record", { agent_id: -1, path: "a" }, "agent_id"],
      ["lock_try", { agent_id: 1, path: "a", ttl_ms: 0 }, "ttl_ms"],
      ["lock_acquire", { agent_id: 1, paths: ["a"], ttl_ms: 0 }, "ttl_ms"],
      ["lock_renew", { agent_id: 1, ttl_ms: 0 }, "ttl_ms"],
      ["changes_since", { limit: 0 }, "limit"],
      ["changes_since", { seq: -1 }, "seq"],
      ["events_since", { seq: -1 }, "seq"],
      ["version_record", { agent_id: 1, path: "a", size: -1 }, "size"],
      ["version_record", { agent_id: 1, path: "a", hash: -1 }, "hash"],
      ["version_record", { agent_id: 1, path: "a", hash: 1.5 }, "hash"],
      ["lock_acquire", { agent_id: 1, paths: ["a"], wait_ms: -1 }, "wait_ms"],
    ];

    it.each(bounds)("%s %j: -32602 invalid_parameter '%s', nothing changed", async (method, params, param) => {
      const s = await busy(store);
      const before = await stateOf(s);
      const hostlibSchema = hasHostlibSchema(method)
        ? checkHostlib(`${method}.request.json`, params)
        : "no upstream schema";
      expect(hostlibSchema, "harn-hostlib's schema refuses it too").not.toBeNull();
      const reply = await s.call(9, "builtin_call", { name: `hostlib_code_index_${method}`, args: [params] });
      expect(reply.error).toMatchObject({
        code: -32602,
        data: { method, kind: "invalid_parameter", builtin: `hostlib_code_index_${method}`, param, field: param },
      });
      expect(reply.error.message).toMatch(
        new RegExp(`^hostlib: hostlib_code_index_${method}: invalid parameter '${param}': `),
      );
      expect((await s.call(10, method, params)).error).toMatchObject({ code: -32602, data: { field: param } });
      expect(await stateOf(s)).toEqual(before);
    });
  });

  describe("current-agent slots", () => {
    it("a binding outlives lock events and a re-registration, and ends when its agent is unregistered", async () => {
      const s = await WireSession.start({ store });
      const call = caller(s, "builtin_call");
      await bind(s, 7, 7, 8);
      expect(await slots(s)).toEqual([7, 7, 8]);
      await ok(call, "agent_register", { name: "seven", agent_id: 7 });
      await ok(call, "lock_try", { agent_id: 7, path: "a" });
      await ok(call, "lock_acquire", { agent_id: 7, paths: ["b"], mode: "shared" });
      await ok(call, "lock_release", { agent_id: 7, path: "a" });
      await ok(call, "version_record", { agent_id: 7, path: "b" });
      await ok(call, "agent_register", { name: "seven again", agent_id: 7 });
      expect(await slots(s)).toEqual([7, 7, 8]);
      await ok(call, "agent_unregister", { agent_id: 7 });
      expect(await slots(s)).toEqual([null, null, 8]);
      expect(s.runtime.bindings.size).toBe(1);
    });

    it("ends when its agent crashes (timed out, on the clock), and stays ended when the agent comes back", async () => {
      const s = await WireSession.start({ store, runtime: { config: { agent_timeout_ms: 1000 } } });
      const call = caller(s, "builtin_call");
      await ok(call, "agent_register", { agent_id: 1 });
      await ok(call, "agent_register", { agent_id: 2 });
      await bind(s, 1, 1, 2);
      await s.call("t", "clock_set", { now_ms: 800 });
      await ok(call, "agent_heartbeat", { agent_id: 2 });
      await s.call("t", "clock_set", { now_ms: 1500 });
      expect(await slots(s)).toEqual([null, null, 2]);
      await ok(call, "agent_heartbeat", { agent_id: 1 });
      expect(await slots(s)).toEqual([null, null, 2]);
    });

    it(
      "ends when a restore leaves its agent missing or not active, " +
        "and is kept for an agent active in the restored state",
      async () => {
        const s = await WireSession.start({ store });
        const call = caller(s, "builtin_call");
        await ok(call, "agent_register", { agent_id: 1 });
        await ok(call, "agent_register", { agent_id: 2 });
        const snapshot = (await s.call("snap", "snapshot")).result;
        await ok(call, "agent_register", { agent_id: 3 });
        await bind(s, 1, 2, 3);
        snapshot.agents.agents[1].state = "crashed";
        const restored = await ok(call, "restore", { snapshot });
        expect(restored).toEqual({ agents: 2, locks: 0, current_seq: 0 });
        expect(await slots(s)).toEqual([1, null, null]);
        expect(s.runtime.bindings.size).toBe(1);
      },
    );

    it("goes with the connection: its bindings are dropped when the session ends", async () => {
      const s = await WireSession.start({ store });
      await bind(s, 1, 2, 3);
      expect(s.runtime.bindings.size).toBe(3);
      expect(await s.endInput()).toBe(0);
      expect(s.runtime.bindings.size).toBe(0);
    });
  });

  describe("any envelope at all", () => {
    it("is answered with a result or a documented error, never an internal one", async () => {
      const s = await WireSession.start({ store });
      const names = fc.oneof(
        fc.constantFrom(
          ...hostCallableNames.map((m) => `hostlib_code_index_${m}`),
          ...hostCallableNames.map((m) => `code_index.${m}`),
          "hostlib_code_index_query",
          "code_index.query",
        ),
        fc.string(),
        fc.jsonValue(),
      );
      const params = fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.record(
          { name: names, args: fc.jsonValue({ maxDepth: 3 }), sessionId: fc.jsonValue({ maxDepth: 1 }) },
          { requiredKeys: [] },
        ),
      );
      let id = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom("builtin_call", "host/call"), params, async (method, value) => {
          const reply = await s.call(++id, method, value);
          if (reply.error !== undefined) {
            expect(reply.error.code, JSON.stringify(reply.error)).not.toBe(-32603);
            if (reply.error.code === -32602)
              expect(reply.error.data.kind, JSON.stringify(reply.error)).toMatch(/^(invalid|missing)_parameter$/);
          }
        }),
        { numRuns: 300 },
      );
      expect(s.logs.filter((line) => line.includes("internal error"))).toEqual([]);
    });
  });
});

describe("current-agent slots with --state", () => {
  it(
    "is not journaled and not in a snapshot: " +
      "binding and reading slots write no journal line and leave the snapshot as it was",
    async () => {
      const s = await WireSession.start({ statePath: tempDir("harn-slots-") });
      const call = caller(s, "builtin_call");
      await ok(call, "agent_register", { agent_id: 4 });
      const lines = async () => (await s.call("m", "metrics")).result.journal.lines;
      const before = await lines();
      const snapshot = (await s.call("snap", "snapshot")).result;
      await bind(s, 4, 4, 4);
      expect(await slots(s)).toEqual([4, 4, 4]);
      expect(await lines()).toBe(before);
      expect((await s.call("snap", "snapshot")).result).toEqual(snapshot);
    },
  );
});
