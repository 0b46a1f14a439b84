// Reply order: every reply that is not a waiting lock_acquire's goes out at
// once and in request order, errors the transport answers itself
// included; a waiting acquire answers when its wait ends and holds back
// nothing after it. With --state, no reply leaves before the changes made
// before it are on disk.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Json, frame, frameBodies, request } from "../support/wire-frames.js";
import { tempDir } from "../support/temp-dir.js";
import { STORES, WireSession, settle } from "../support/wire-session.js";

/** A blocked acquire (agent 2 waits for agent 1's lock on "a"), then one message of every kind of reply. */
const blocked = [
  request(1, "agent_register"),
  request(2, "agent_register"),
  request(3, "lock_try", { agent_id: 1, path: "a" }),
  request(4, "lock_acquire", { agent_id: 2, paths: ["a"], wait_ms: 600_000 }),
];
const afterWait: [string, Json, number | undefined][] = [
  ["garbage", null, -32700],
  ["[]", null, -32600],
  [request(5, "agent_register", { name: "x".repeat(3000) }), null, -32600],
  [request(6, "no_such_method"), 6, -32601],
  [request(7, "lock_try", { agent_id: 0, path: "b" }), 7, -32602],
  ['{"jsonrpc":"2.0","id":8}', 8, -32600],
  ['{"jsonrpc":"2.0","method":"something/else"}', undefined, undefined],
  [request(9, "lock_try", { agent_id: 1, path: "b" }), 9, undefined],
  ['{"jsonrpc":"2.0","id":10,"method":"current_seq"', null, -32700],
  [request(11, "current_seq"), 11, undefined],
];
const expected = [
  1,
  2,
  3,
  ...afterWait.filter(([, id, code]) => id !== undefined || code !== undefined).map(([, id, code]) => ({ id, code })),
];

const summary = (messages: Json[]) => messages.map((m, i) => (i < 3 ? m.id : { id: m.id, code: m.error?.code }));

describe.each(STORES)("%s store", (store) => {
  for (const framing of ["ndjson", "content-length"] as const) {
    describe(`reply order over ${framing}`, () => {
      for (const chunking of ["one chunk", "one message per chunk"] as const) {
        it(`answers everything after a waiting acquire at once and in request order (${chunking})`, async () => {
          const wire = await WireSession.start({ store, framing, maxMessageBytes: 2000 });
          const bodies = [...blocked, ...afterWait.map(([body]) => body)];
          if (chunking === "one chunk") wire.sendRaw(frame(framing, ...bodies));
          else {
            for (const body of bodies) {
              wire.sendRaw(frame(framing, body));
              await settle(1);
            }
          }
          const replies = await wire.waitFor(expected.length, framing);
          await settle();
          expect(summary(wire.messages(framing))).toEqual(expected);
          expect(replies.find((m) => m.id === 4)).toBeUndefined();
          wire.sendRaw(frame(framing, request(12, "lock_release", { agent_id: 1, path: "a" })));
          const all = await wire.waitFor(expected.length + 2, framing);
          expect(all.slice(expected.length).map((m) => m.id)).toEqual([12, 4]);
          expect(all.at(-1).result).toMatchObject({ granted: true });
        });
      }
    });
  }
});

describe("reply order with --state", () => {
  it("answers after a waiting acquire in order, each reply only once the changes before it are on disk", async () => {
    const dir = tempDir("harn-order-");
    const wire = await WireSession.start({ framing: "ndjson", statePath: dir });
    const journalOps = () =>
      readFileSync(join(dir, "journal.0.ndjson"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => (/"op":"(\w+)"/.exec(line) as RegExpExecArray)[1] as string);
    const seen: { id: Json; ops: string[] }[] = [];
    wire.output.on("data", (chunk: Buffer) => {
      for (const line of frameBodies("ndjson", chunk)) seen.push({ id: JSON.parse(line).id, ops: journalOps() });
    });
    wire.sendRaw(
      frame(
        "ndjson",
        ...blocked,
        "garbage",
        request(5, "lock_try", { agent_id: 1, path: "b" }),
        "[]",
        request(6, "current_seq"),
      ),
    );
    await wire.waitFor(7, "ndjson");
    await settle();
    expect(seen.map((s) => s.id)).toEqual([1, 2, 3, null, 5, null, 6]);
    const count = (ops: string[] | undefined, op: string) => ops?.filter((o) => o === op).length;
    expect(seen[3]?.ops).toContain("acquire");
    for (const later of seen.slice(4)) expect(count(later.ops, "tryLock")).toBe(2);
  });
});
