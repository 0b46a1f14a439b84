// Every number JSON's grammar allows and nesting as deep as JSON.parse
// takes reach validation: a bad value is -32602 with the request's id,
// never a -32700 that loses it.
import { describe, expect, it } from "vitest";
import { frame } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

const depth = 10_000;
const deepArray = `${"[".repeat(depth)}9007199254740993${"]".repeat(depth)}`;
const deepObject = `${'{"a":'.repeat(depth)}18446744073709551615${"}".repeat(depth)}`;
const call = (id: number, method: string, params: string) =>
  `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}`;

for (const framing of ["ndjson", "content-length"] as const) {
  describe(`JSON values over ${framing}`, () => {
    it("takes numbers with long fractions and exponents as the numbers they are", async () => {
      const wire = await WireSession.start({ framing });
      wire.sendRaw(
        frame(
          framing,
          call(1, "lock_try", '{"agent_id":0.30000000000000004,"path":"a"}'),
          call(2, "lock_try", '{"agent_id":1e0000000000000000,"path":"a","ttl_ms":1.5e00000000000000003}'),
          call(3, "lock_try", '{"agent_id":1.0000000000000000000001,"path":"b","ttl_ms":-1.5e-00000000000000003}'),
          call(
            4,
            "version_record",
            '{"agent_id":1,"path":"a","hash":18446744073709551615,"size":2.50000000000000000001e0}',
          ),
        ),
      );
      const replies = await wire.waitFor(4, framing);
      expect(replies[0]).toMatchObject({
        id: 1,
        error: { code: -32602, data: { method: "lock_try", field: "agent_id" } },
      });
      expect(replies[1]).toEqual({ jsonrpc: "2.0", id: 2, result: { locked: true, holder: 1 } });
      expect(replies[2]).toMatchObject({ id: 3, error: { code: -32602, data: { field: "ttl_ms" } } });
      expect(replies[3]).toMatchObject({ id: 4, error: { code: -32602, data: { field: "size" } } });
      expect(wire.runtime.view.listLocks().map((l) => [l.path, l.expires_at_ms])).toEqual([["a", 1500]]);
    });

    it("answers very deep params, with a big integer at the bottom, with -32602 and the id", async () => {
      const wire = await WireSession.start({ framing });
      wire.sendRaw(
        frame(
          framing,
          call(1, "status", `{"x":${deepArray}}`),
          call(2, "lock_try", `{"agent_id":1,"path":${deepObject}}`),
          call(3, "version_record", `{"agent_id":1,"path":"a","hash":${deepArray}}`),
          `{"jsonrpc":"2.0","id":4,"method":"status","params":${deepArray}}`,
          `{"jsonrpc":"2.0","id":${deepArray},"method":"status"}`,
          call(6, "current_seq", "{}"),
        ),
      );
      const replies = await wire.waitFor(6, framing);
      expect(replies.map((r) => [r.id, r.error?.code, r.error?.data?.field])).toEqual([
        [1, -32602, "x"],
        [2, -32602, "path"],
        [3, -32602, "hash"],
        [4, -32602, "params"],
        [null, -32600, undefined],
        [6, undefined, undefined],
      ]);
      expect(replies[4].error.message).toBe("Invalid request: id must be a string or a number, got an array");
    });
  });
}
