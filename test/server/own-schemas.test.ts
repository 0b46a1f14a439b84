// Every method's request and live result validated against the JSON Schemas
// generated into protocol/schemas/, so the published schemas describe the wire.
import { readFileSync } from "node:fs";
import Ajv2020Module from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { methodNames } from "../../protocol/methods.js";
import { schemaFileBase } from "../../scripts/protocol-files.js";
import type { Json } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

const ajv = new Ajv2020Module.default({ strict: false });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function check(file: string, value: unknown): string | null {
  let validate = validators.get(file);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(`protocol/schemas/${schemaFileBase(file)}`, "utf8")));
    validators.set(file, validate);
  }
  return validate(value) ? null : JSON.stringify(validate.errors);
}

const session: [string, Json][] = [
  ["initialize", { client_name: "schemas" }],
  ["agent_register", { name: "a" }],
  ["agent_register", { agent_id: 5 }],
  ["agent_heartbeat", { agent_id: 5 }],
  ["lock_try", { agent_id: 1, path: "src/a.rs", ttl_ms: 100 }],
  ["lock_try", { agent_id: 5, path: "src/a.rs" }],
  ["lock_holder", { path: "src/a.rs" }],
  ["lock_acquire", { agent_id: 5, paths: ["docs", "src/b.rs"], mode: "shared", ttl_ms: 50 }],
  ["lock_acquire", { agent_id: 1, paths: ["docs/x"], wait_ms: 0 }],
  ["lock_check", { paths: ["src"], mode: "exclusive" }],
  ["lock_info", { path: "docs" }],
  ["lock_info", { path: "nothing/here" }],
  ["lock_renew", { agent_id: 5, ttl_ms: 500 }],
  ["events_subscribe", {}],
  ["events_since", { seq: 0 }],
  ["lock_list", {}],
  ["version_record", { agent_id: 1, path: "src/a.rs", hash: "99", size: 1 }],
  ["changes_since", { seq: 0 }],
  ["current_seq", {}],
  ["current_agent_set", { agent_id: 5 }],
  ["current_agent_id", {}],
  ["host/capabilities", {}],
  ["builtin_call", { name: "hostlib_code_index_lock_holder", args: [{ path: "src/a.rs" }] }],
  ["host/call", { sessionId: "s1", name: "code_index.current_agent_id", args: null }],
  ["agent_get", { agent_id: 1 }],
  ["agent_get", { agent_id: 4 }],
  ["agent_list", {}],
  ["status", {}],
  ["clock_set", { now_ms: 100 }],
  ["metrics", {}],
  ["reap", {}],
  ["snapshot", {}],
  ["lock_release", { agent_id: 1, path: "src/a.rs" }],
  ["lock_force_release", { path: "docs", reason: "test" }],
  ["lock_release_all", { agent_id: 5 }],
  ["agent_unregister", { agent_id: 5 }],
  ["shutdown", {}],
];

let sidecar: WireSession;
beforeAll(async () => {
  sidecar = await WireSession.start({ closeAfterTest: false });
});
afterAll(() => sidecar.close());

describe("published JSON Schemas match the wire", () => {
  it("the session covers every method", () => {
    expect(new Set([...session.map(([m]) => m), "restore"])).toEqual(new Set(methodNames));
  });

  it("validates every request and result", async () => {
    let snapshot: Json;
    for (const [i, [method, params]] of session.entries()) {
      if (method === "lock_release") {
        const restoreParams = { snapshot, reap: true };
        expect(check("restore.request.json", restoreParams)).toBeNull();
        const restored = await sidecar.call(`r${i}`, "restore", restoreParams);
        expect(check("restore.response.json", restored.result)).toBeNull();
      }
      expect(check(`${method}.request.json`, params), method).toBeNull();
      const reply = await sidecar.call(i, method, params);
      expect(reply.error, method).toBeUndefined();
      expect(check(`${method}.response.json`, reply.result), `${method} → ${JSON.stringify(reply.result)}`).toBeNull();
      if (method === "snapshot") snapshot = reply.result;
    }
  });

  it("validates every event notification it was sent", () => {
    expect(sidecar.notifications.length).toBeGreaterThan(0);
    for (const notification of sidecar.notifications) {
      const file = `${String(notification.method).replace("/", "_")}.notification.json`;
      expect(
        check(file, notification.params),
        `${notification.method} → ${JSON.stringify(notification.params)}`,
      ).toBeNull();
    }
  });
});
