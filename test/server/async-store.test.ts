// A store that answers later, as PostgreSQL state does (test/support/async-store.ts): it answers in call order, and the
// server keeps its promises with it: every reply in request order (a waiting lock_acquire's aside), the requests that
// read what the process knows (current_agent_id, events_since, ...) seeing what the requests before them did, a cancel
// or an end of input that comes before an acquire is answered ending its wait, one tick at a time.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/core/registry.js";
import { startDeadlineTimer } from "../../src/server/deadline-timer.js";
import { openAsyncStore } from "../support/async-store.js";
import { type Json, frame, request } from "../support/wire-frames.js";
import { STORES, type StoreKind, WireSession } from "../support/wire-session.js";

const settings = { config: {}, crashLockDelayMs: 0, limits: DEFAULT_LIMITS };
const cancel = (id: number) => JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id } });

describe("the async test store", () => {
  it("answers every call on a later macrotask, in call order", async () => {
    const { store, view } = await openAsyncStore({ clock: "manual", ...settings });
    const answered: number[] = [];
    const calls = [store.register("a"), store.tryLock(1, "f"), store.lockHolder("f"), store.tryLock(2, "f")];
    calls.forEach((call, i) => void (call as Promise<unknown>).then(() => answered.push(i)));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(answered).toEqual([]);
    expect(view.listAgents()).toEqual([]);
    expect(await Promise.all(calls)).toEqual([1, { locked: true, holder: 1 }, 1, { locked: false, holder: 1 }]);
    expect(answered).toEqual([0, 1, 2, 3]);
  });

  it("moves a manual clock in call order, and refuses a move backwards at once", async () => {
    const { store, clock } = await openAsyncStore({ clock: "manual", ...settings });
    const before = store.tryLock(1, "f", 100);
    clock.set(100);
    const after = store.lockHolder("f");
    expect(clock.now()).toBe(0);
    expect(() => clock.set(99)).toThrow(/before the current time 100/);
    expect(await before).toMatchObject({ locked: true });
    expect(await after).toBeNull();
    expect(clock.now()).toBe(100);
  });
});

/** One chunk of every kind of request: changes, reads, local reads, bad ones, a wait that a later release grants. */
const pipeline = [
  request(1, "agent_register", { name: "a" }),
  request(2, "current_agent_set", { agent_id: 1 }),
  request(3, "lock_try", { agent_id: 1, path: "f", ttl_ms: 1000 }),
  request(4, "initialize", { events: true }),
  request(5, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 60_000 }),
  "garbage",
  request(6, "events_since", { seq: 0 }),
  request(7, "no_such_method"),
  request(8, "lock_info", { path: "f" }),
  request(9, "lock_try", { agent_id: 0, path: "f" }),
  request(10, "agent_unregister", { agent_id: 1 }),
  request(11, "current_agent_id"),
  request(12, "clock_set", { now_ms: 500 }),
  request(13, "lock_list"),
  request(14, "current_seq"),
  // Last: metrics counts the requests received, and with a store that answers later those after it in the chunk are
  // received (sent to the store) before it runs.
  request(15, "metrics"),
];

/**
 * What a session wrote for `pipeline` (sent as one chunk, then the end of the input), metrics' timings left out, and
 * the granted wait's reply apart: it goes out when the wait ends, which is after the whole chunk on the memory store
 * (the release that grants it runs in the same turn as the rest) and as soon as it is granted on the other.
 */
async function transcript(store: StoreKind): Promise<{ messages: Json[]; granted: Json }> {
  const wire = await WireSession.start({ store });
  wire.input.end(frame("ndjson", ...pipeline));
  expect(await wire.exited).toBe(0);
  const messages = wire.allMessages().map((message) => {
    if (message.id !== 15) return message;
    const { uptime_ms, latency_us, ...rest } = message.result;
    return { ...message, result: rest };
  });
  return { messages: messages.filter((message) => message.id !== 5), granted: messages.find((m) => m.id === 5) };
}

describe("a pipeline on a store that answers later", () => {
  it("is answered byte for byte as on the memory store: replies, events and their order", async () => {
    const memory = await transcript("memory");
    expect(memory.messages.filter((message) => "id" in message).map((message) => message.id)).toEqual([
      1,
      2,
      3,
      4,
      null,
      6,
      7,
      8,
      9,
      10,
      11,
      12,
      13,
      14,
      15,
    ]);
    expect(memory.granted.result).toMatchObject({ granted: true });
    expect(await transcript("async")).toEqual(memory);
  });
});

describe.each(STORES)("a wait that ends before it is answered (%s store)", (store) => {
  it("is cancelled by a $/cancelRequest sent right behind its lock_acquire", async () => {
    const wire = await WireSession.start({ store });
    await wire.call(1, "lock_try", { agent_id: 1, path: "f" });
    wire.sendRaw(
      frame("ndjson", request(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 60_000 }), cancel(2)),
    );
    expect(await wire.next()).toMatchObject({ id: 2, error: { code: -32800 } });
    expect((await wire.call(3, "lock_info", { path: "f" })).result).toMatchObject({ waiters: 0 });
  });

  it("is cancelled by the end of the input right behind its lock_acquire", async () => {
    const wire = await WireSession.start({ store });
    await wire.call(1, "lock_try", { agent_id: 1, path: "f" });
    wire.input.end(frame("ndjson", request(2, "lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 60_000 })));
    expect(await wire.exited).toBe(0);
    expect(wire.allMessages().at(-1)).toMatchObject({ id: 2, error: { code: -32800 } });
    expect(wire.runtime.view.stats().waits.waiting).toBe(0);
  });
});

describe("a store that cannot be reached", () => {
  it("has every call that asks it answered store_unavailable (1011), in order, and the session goes on", async () => {
    let down = true;
    const wire = await WireSession.start({ runtime: { openStore: (given) => openAsyncStore(given, () => down) } });
    wire.sendRaw(
      frame(
        "ndjson",
        request(1, "lock_try", { agent_id: 1, path: "f" }),
        request(2, "status"),
        request(3, "current_agent_id"),
        request(4, "lock_acquire", { agent_id: 1, paths: ["f"], wait_ms: 60_000 }),
        request(5, "agent_heartbeat", { agent_id: 1 }),
      ),
    );
    const replies: Json[] = [];
    for (let i = 0; i < 5; i++) replies.push(await wire.next());
    expect(replies.map((reply) => reply.error?.code ?? reply.result)).toEqual([1011, 1011, null, 1011, 1011]);
    expect(replies[0].error).toMatchObject({
      message: "lock_try: the PostgreSQL state could not be reached; not applied",
      data: { method: "lock_try", error: "store_unavailable" },
    });
    down = false;
    expect((await wire.call(6, "lock_try", { agent_id: 1, path: "f" })).result).toEqual({ locked: true, holder: 1 });
    expect((await wire.call(7, "status")).result).toMatchObject({ agents: [{ id: 1 }] });
  });
});

describe("the deadline timer with a tick that answers later", () => {
  it("has one tick in flight at a time, and re-arms once it is answered", async () => {
    let due = 0;
    const ticks: (() => void)[] = [];
    const timer = startDeadlineTimer(
      { nextDeadline: () => (due > 0 ? due : undefined) },
      () => new Promise<void>((resolve) => ticks.push(resolve)),
      Date.now,
    );
    due = Date.now();
    timer.rearm();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toHaveLength(1);
    timer.rearm();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toHaveLength(1);
    (ticks[0] as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toHaveLength(2);
    due = 0;
    (ticks[1] as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toHaveLength(2);
    timer.stop();
  });
});
