// Garbage of many kinds thrown at a session: afterwards it still answers,
// and the state is exactly what it was (bad input never changes state).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { methodNames } from "../../protocol/methods.js";
import { type WireFraming, req } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const unknownMethod = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((m) => !(methodNames as string[]).includes(m) && !m.startsWith("$/"));

/** Message bodies that can never be a valid, state-changing request. */
const badBody = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => s.replaceAll("\n", " ")),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString("latin1").replaceAll("\n", " ")),
  jsonValue.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)),
  fc
    .record({ jsonrpc: fc.constant("2.0"), id: fc.nat(), method: unknownMethod, params: jsonValue })
    .map((m) => JSON.stringify(m)),
  fc
    .record({
      jsonrpc: fc.constant("2.0"),
      id: fc.nat(),
      method: fc.constantFrom(
        "lock_try",
        "lock_acquire",
        "agent_heartbeat",
        "version_record",
        "restore",
        "lock_release",
      ),
      params: fc.record({
        agent_id: fc.oneof(fc.string(), fc.constant(-1), fc.constant(1.5), fc.constant(null)),
        path: jsonValue,
        extra: jsonValue,
      }),
    })
    .map((m) => JSON.stringify(m)),
  fc
    .record({
      jsonrpc: fc.constant("2.0"),
      id: fc.oneof(fc.constant(null), fc.boolean(), fc.object()),
      method: fc.constant("agent_register"),
    })
    .map((m) => JSON.stringify(m)),
  fc
    .record({
      jsonrpc: fc.constant("2.0"),
      id: fc.nat(),
      method: fc.constantFrom("builtin_call", "host/call"),
      params: fc.oneof(
        jsonValue,
        fc.record(
          { name: fc.oneof(fc.string(), jsonValue), args: jsonValue, sessionId: jsonValue },
          { requiredKeys: [] },
        ),
      ),
    })
    .map((m) => JSON.stringify(m)),
  fc
    .record({
      method: fc.constantFrom(
        "lock_try",
        "lock_acquire",
        "agent_heartbeat",
        "version_record",
        "restore",
        "lock_release",
        "agent_register",
      ),
      bad: fc.record({
        agent_id: fc.oneof(fc.string(), fc.constant(-1), fc.constant(1.5), fc.constant(null)),
        path: jsonValue,
        extra: jsonValue,
      }),
      envelope: fc.boolean(),
    })
    .map(({ method, bad, envelope }) =>
      JSON.stringify(
        envelope
          ? req(1, "builtin_call", { name: `hostlib_code_index_${method}`, args: [bad] })
          : req(1, "host/call", { sessionId: "s", name: `code_index.${method}`, args: bad }),
      ),
    ),
  fc.constant('{"jsonrpc":"2.0","id":1,"method":"agent_register","params":{"name":"x"'),
);

/** Send a request and read past the error replies to the garbage before it. */
async function callPast(
  sidecar: WireSession,
  id: string,
  method: string,
): Promise<{ result?: unknown; errors: number }> {
  sidecar.send(req(id, method));
  let errors = 0;
  for (;;) {
    const reply = await sidecar.next();
    if (reply.id === id) return { result: reply.result, errors };
    expect(reply.error, JSON.stringify(reply)).toBeDefined();
    errors++;
  }
}

async function survives(framing: WireFraming, bodies: string[]): Promise<void> {
  const sidecar = await WireSession.start({ wire: framing, maxMessageBytes: 4096, closeAfterTest: false });
  try {
    await sidecar.call("seed", "lock_try", { agent_id: 1, path: "src/a.rs" });
    const before = (await sidecar.call("before", "snapshot")).result;
    for (const body of bodies) sidecar.send(body);
    if (framing === "ndjson") sidecar.sendRaw("\n");
    const after = await callPast(sidecar, "after", "snapshot");
    expect(after.result).toEqual(before);
    expect(sidecar.exitCode).toBeUndefined();
    sidecar.allMessages();
  } finally {
    await sidecar.close();
  }
}

describe("fuzzed input", () => {
  for (const framing of ["ndjson", "content-length"] as const) {
    it(`never changes state or ends the session (${framing})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(badBody, { minLength: 1, maxLength: 40, size: "max" }), (bodies) =>
          survives(framing, bodies),
        ),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 15) },
      );
    });
  }

  it("also survives random bytes between Content-Length frames", async () => {
    const sidecar = await WireSession.start({ framing: "content-length", closeAfterTest: false });
    try {
      await sidecar.call(1, "lock_try", { agent_id: 1, path: "f" });
      const before = (await sidecar.call(2, "snapshot")).result;
      sidecar.sendRaw(Buffer.from("garbage \u0000\u00ff with no header end\r\n\r\nmore junk Content-Type: x\r\n\r\n"));
      const reply = await callPast(sidecar, "3", "snapshot");
      expect(reply.result).toEqual(before);
      expect(reply.errors).toBeGreaterThan(0);
      expect(sidecar.exitCode).toBeUndefined();
    } finally {
      await sidecar.close();
    }
  });
});
