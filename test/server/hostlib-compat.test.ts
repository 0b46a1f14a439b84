// Our wire shapes against harn-hostlib's own JSON Schemas (copied from
// shared/reference/hostlib-schemas into test/fixtures): what an upstream
// client may send we accept, and what we answer validates upstream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHostlib as check, hostlibSchemaMethods } from "../support/hostlib-schemas.js";
import type { Json } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

/** Requests an upstream client may send, each valid under the upstream request schema. */
const upstreamRequests: [string, Json][] = [
  ["agent_register", {}],
  ["agent_register", { name: "editor" }],
  ["agent_register", { name: "pinned", agent_id: 7 }],
  ["agent_heartbeat", { agent_id: 7 }],
  ["agent_heartbeat", { agent_id: 99 }],
  ["lock_try", { agent_id: 7, path: "src/a.rs" }],
  ["lock_try", { agent_id: 1, path: "src/a.rs", ttl_ms: 1000 }],
  ["lock_try", { agent_id: 1, path: "src/b.rs", ttl_ms: 1000 }],
  ["lock_release", { agent_id: 1, path: "src/b.rs" }],
  ["lock_release", { agent_id: 5, path: "never-held" }],
  ["version_record", { agent_id: 7, path: "src/a.rs" }],
  ["version_record", { agent_id: 0, path: "src/a.rs", op: "patch", hash: 12345, size: 10 }],
  ["version_record", { agent_id: 7, path: "src/b.rs", op: "delete", hash: "18446744073709551615", size: 0 }],
  ["changes_since", {}],
  ["changes_since", { seq: 1 }],
  ["changes_since", { seq: 0, limit: 2 }],
  ["current_seq", {}],
  ["current_agent_id", {}],
  ["status", {}],
  ["agent_unregister", { agent_id: 99 }],
  ["agent_unregister", { agent_id: 12345 }],
];

let sidecar: WireSession;
beforeAll(async () => {
  sidecar = await WireSession.start({ runtime: { clock: "system" }, closeAfterTest: false });
});
afterAll(() => sidecar.close());

describe("wire-compatible with harn-hostlib's schemas", () => {
  it("has a fixture for every upstream method we serve", () => {
    const names = hostlibSchemaMethods();
    for (const [method] of upstreamRequests) expect(names.has(method)).toBe(true);
  });

  it.each(upstreamRequests.map((r, i) => [i, ...r] as const))(
    "request %i: %s accepts what upstream allows and answers in upstream's shape",
    async (i, method, params) => {
      expect(check(`${method}.request.json`, params)).toBeNull();
      const reply = await sidecar.call(i, method, params);
      expect(reply.error).toBeUndefined();
      expect(check(`${method}.response.json`, reply.result), `${method} → ${JSON.stringify(reply.result)}`).toBeNull();
    },
  );

  it("answers a refused lock_try with the holder, as upstream describes", async () => {
    const reply = await sidecar.call("r", "lock_try", { agent_id: 2, path: "src/a.rs" });
    expect(reply.result).toEqual({ locked: false, holder: 7 });
  });
});
