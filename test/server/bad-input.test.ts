// Bad input of every kind, over both framings: a clear error, the session
// going on, and no state changed (the snapshot before equals the one after).
import { describe, expect, it } from "vitest";
import { type Json, type WireFraming, req } from "../support/wire-frames.js";
import { STORES, type StoreKind, WireSession } from "../support/wire-session.js";

async function seeded(
  store: StoreKind,
  framing: WireFraming,
  maxMessageBytes?: number,
): Promise<{ s: WireSession; before: Json }> {
  const s = await WireSession.start({ store, wire: framing, maxMessageBytes });
  await s.call("a", "agent_register", { name: "one" });
  await s.call("b", "lock_try", { agent_id: 1, path: "src/a.rs" });
  await s.call("c", "version_record", { agent_id: 1, path: "src/a.rs", hash: "5" });
  const before = (await s.call("d", "snapshot")).result;
  return { s, before };
}

async function expectUnchanged(s: WireSession, before: Json): Promise<void> {
  expect((await s.call("after", "snapshot")).result).toEqual(before);
}

const badParams: [string, Json, string][] = [
  ["lock_try", { agent_id: 0, path: "x" }, "lock_try: agent_id must be an integer from 1 to 2^53-1"],
  ["lock_try", { agent_id: 1.5, path: "x" }, "lock_try: agent_id must be an integer from 1 to 2^53-1"],
  ["lock_try", { agent_id: "1", path: "x" }, "lock_try: agent_id must be an integer from 1 to 2^53-1"],
  [
    "lock_try",
    { agent_id: 2, path: "x", ttl_ms: 0 },
    "lock_try: ttl_ms must be a positive integer number of milliseconds",
  ],
  ["lock_try", { agent_id: 2, path: "" }, "lock_try: path must not be empty"],
  [
    "lock_try",
    { agent_id: 2, path: "/etc/passwd" },
    'lock_try: path must be relative to the workspace root, got absolute path "/etc/passwd"',
  ],
  ["lock_try", { agent_id: 2, path: "../x" }, 'lock_try: path climbs above the workspace root: "../x"'],
  ["lock_try", { agent_id: 2, path: "a\u0000b" }, "lock_try: path must not contain NUL bytes"],
  ["lock_try", { agent_id: 2 }, "lock_try: path is required"],
  [
    "lock_try",
    { agent_id: 2, path: "x", extra: true },
    "lock_try: extra is not a parameter of lock_try (it takes: agent_id, path, ttl_ms)",
  ],
  ["agent_register", { name: 5 }, "agent_register: name must be a string"],
  ["agent_heartbeat", {}, "agent_heartbeat: agent_id is required"],
  [
    "version_record",
    { agent_id: 1, path: "a", op: "rename" },
    "version_record: op must be one of snapshot, write, replace_range, insert_after, delete_range, patch, delete",
  ],
  ["version_record", { agent_id: 1, path: "a", hash: "-1" }, "version_record: hash must be an unsigned 64-bit integer"],
  [
    "version_record",
    { agent_id: 1, path: "a", hash: "18446744073709551616" },
    "version_record: hash must be an unsigned 64-bit integer",
  ],
  ["changes_since", { seq: -1 }, "changes_since: seq must be a non-negative integer"],
  ["changes_since", { limit: 0 }, "changes_since: limit must be a positive integer"],
  ["restore", { snapshot: { format_version: 1 } }, "restore: snapshot.taken_at_ms is required"],
  ["restore", { snapshot: [] }, "restore: snapshot must be an object"],
  ["status", { verbose: true }, "status: verbose is not a parameter of status (it takes: no parameters)"],
  ["status", [1], "status: params must be an object of named parameters, got an array"],
  ["status", 5, "status: params must be an object of named parameters, got 5"],
];

describe.each(STORES)("%s store", (store) => {
  for (const framing of ["ndjson", "content-length"] as const) {
    describe(`bad input over ${framing}`, () => {
      it("answers -32602 naming the method, field and problem, and changes nothing", async () => {
        const { s, before } = await seeded(store, framing);
        for (const [index, [method, params, message]] of badParams.entries()) {
          const reply = await s.call(index, method, params);
          expect(reply.error?.code, `${method} ${JSON.stringify(params)}`).toBe(-32602);
          expect(reply.error.message).toContain(message);
          expect(reply.error.data.method).toBe(method);
        }
        await expectUnchanged(s, before);
      });

      it("answers a snapshot that fails cross-field checks with -32602 naming the field", async () => {
        const { s, before } = await seeded(store, framing);
        const broken = structuredClone(before);
        broken.agents.agents.push({ ...broken.agents.agents[0] });
        const reply = await s.call(1, "restore", { snapshot: broken });
        expect(reply.error).toMatchObject({
          code: -32602,
          message: "restore: snapshot.agents.agents[1].id repeats agent id 1",
        });
        await expectUnchanged(s, before);
      });

      it("answers unknown methods with -32601", async () => {
        const { s, before } = await seeded(store, framing);
        expect((await s.call(1, "lock/try", {})).error).toMatchObject({
          code: -32601,
          message: 'Unknown method "lock/try"; initialize lists the methods',
        });
        await expectUnchanged(s, before);
      });

      it("answers unparseable JSON with -32700 and id null, and keeps going", async () => {
        const { s, before } = await seeded(store, framing);
        s.send("{not json");
        expect(await s.next()).toMatchObject({ id: null, error: { code: -32700 } });
        expect((await s.call(1, "current_seq")).result).toBe(1);
        await expectUnchanged(s, before);
      });

      it.each([
        ["a batch", `[${JSON.stringify(req(1, "current_seq"))}]`, null, "batches are not supported"],
        ["an empty batch", "[]", null, "batches are not supported"],
        ["a string", '"hello"', null, "a message must be a JSON object"],
        ["a number", "42", null, "a message must be a JSON object"],
        ["no method", '{"jsonrpc":"2.0","id":7}', 7, "message has no method"],
        ["a numeric method", '{"jsonrpc":"2.0","id":8,"method":5}', 8, "method must be a string"],
        ["an object id", '{"jsonrpc":"2.0","id":{"a":1},"method":"status"}', null, "id must be a string or a number"],
        ["a boolean id", '{"jsonrpc":"2.0","id":true,"method":"status"}', null, "id must be a string or a number"],
        ["a null id", '{"jsonrpc":"2.0","id":null,"method":"status"}', null, "id must be a string or a number"],
        ["a wrong jsonrpc version", '{"jsonrpc":"1.0","id":9,"method":"status"}', 9, 'jsonrpc must be "2.0"'],
        ["no jsonrpc member", '{"id":10,"method":"status"}', 10, 'jsonrpc must be "2.0"'],
      ])("answers %s with -32600", async (_label, body, id, message) => {
        const { s, before } = await seeded(store, framing);
        s.send(body);
        const reply = await s.next();
        expect(reply).toMatchObject({ jsonrpc: "2.0", id, error: { code: -32600 } });
        expect(reply.error.message).toContain(message);
        await expectUnchanged(s, before);
      });

      it("ignores a response sent to it and notifications it does not know", async () => {
        const { s, before } = await seeded(store, framing);
        s.send('{"jsonrpc":"2.0","id":77,"result":true}');
        s.send('{"jsonrpc":"2.0","method":"something/else","params":{}}');
        expect(await s.call(1, "current_seq")).toEqual({ jsonrpc: "2.0", id: 1, result: 1 });
        await expectUnchanged(s, before);
      });

      it("discards a message over --max-message-bytes with an error and stays alive", async () => {
        const { s, before } = await seeded(store, framing, 2000);
        s.send(JSON.stringify(req(1, "agent_register", { name: "x".repeat(5000) })));
        const reply = await s.next();
        expect(reply).toMatchObject({ id: null, error: { code: -32600 } });
        expect(reply.error.message).toContain("exceeds --max-message-bytes=2000");
        expect((await s.call(2, "current_seq")).result).toBe(1);
        await expectUnchanged(s, before);
      });

      it("keeps the order of replies when errors are interleaved with requests", async () => {
        const { s } = await seeded(store, framing);
        s.send(req(1, "current_seq"));
        s.send("{bad");
        s.send(req(2, "current_seq"));
        s.send("[]");
        s.send(req(3, "current_seq"));
        const ids = [];
        for (let i = 0; i < 5; i++) ids.push((await s.next()).id);
        expect(ids).toEqual([1, null, 2, null, 3]);
      });
    });
  }

  describe("Content-Length framing errors", () => {
    it("answers a header block without Content-Length with -32700 and resynchronises on the next header", async () => {
      const { s, before } = await seeded(store, "content-length");
      s.sendRaw("X-Nonsense: 1\r\n\r\n");
      expect(await s.next()).toMatchObject({ id: null, error: { code: -32700 } });
      s.sendRaw("Content-Length: abc\r\n\r\n");
      expect((await s.next()).error.message).toContain('Content-Length must be a non-negative integer, got "abc"');
      const body = JSON.stringify(req(5, "current_seq"));
      s.sendRaw(`garbage before the header Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      expect(await s.next()).toMatchObject({
        id: null,
        error: { code: -32700, message: expect.stringContaining('"garbage before the header "') },
      });
      expect(await s.next()).toEqual({ jsonrpc: "2.0", id: 5, result: 1 });
      await expectUnchanged(s, before);
    });

    it.each([
      ["a line of JSON between two frames", () => `${JSON.stringify(req(2, "agent_register"))}\n`],
      ["a line of JSON with CRLF", () => `${JSON.stringify(req(2, "agent_register"))}\r\n`],
      ["garbage lines", () => "hello\r\nworld\r\n"],
      ["garbage on the header's own line", () => "oops "],
    ])(
      "answers bytes that are not a header before a header (%s) with -32700, then the frame, changing nothing",
      async (_what, junk) => {
        const { s, before } = await seeded(store, "content-length");
        const body = JSON.stringify(req(7, "current_seq"));
        s.sendRaw(`${junk()}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        expect(await s.next()).toMatchObject({
          jsonrpc: "2.0",
          id: null,
          error: { code: -32700, message: expect.stringContaining("not a header line") },
        });
        expect(await s.next()).toEqual({ jsonrpc: "2.0", id: 7, result: 1 });
        await expectUnchanged(s, before);
      },
    );

    it("accepts a Content-Type header and messages split across writes at any byte", async () => {
      const sidecar = await WireSession.start({ store, framing: "content-length" });
      const body = JSON.stringify(req(1, "current_seq"));
      const frame = Buffer.from(
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n${body}`,
      );
      for (const byte of frame) {
        sidecar.sendRaw(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await sidecar.next()).toEqual({ jsonrpc: "2.0", id: 1, result: 0 });
    });
  });
});
