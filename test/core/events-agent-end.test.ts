// The event log's agent-end hook (what the current-agent slots hang off):
// called with the agent of every crash and unregistration, never for a lock
// event, and listening makes no lock event into an object.
import { describe, expect, it, vi } from "vitest";
import { EventLog } from "../../src/core/events.js";
import { Registry } from "../../src/core/registry.js";

describe("EventLog.onAgentEnd", () => {
  it("is called for agent/crashed and agent/unregistered only, with the agent's id", () => {
    let now = 0;
    const registry = new Registry({ now: () => now, config: { agent_timeout_ms: 100 } });
    const ended: number[] = [];
    const stop = registry.events.onAgentEnd((id) => ended.push(id));
    registry.register("a");
    registry.register("b");
    registry.registerWithId(3, "c");
    registry.tryLock(1, "x");
    registry.acquire({ agentId: 2, paths: ["y"], mode: "shared" });
    registry.releaseLock(1, "x");
    registry.registerWithId(2, "b again");
    expect(ended).toEqual([]);
    registry.unregister(3);
    registry.unregister(99);
    expect(ended).toEqual([3]);
    now = 50;
    registry.heartbeat(2);
    now = 150;
    registry.tick();
    expect(ended).toEqual([3, 1]);
    registry.crashAgents([2]);
    expect(ended).toEqual([3, 1, 2]);
    stop();
    registry.register("d");
    registry.unregister(4);
    expect(ended).toEqual([3, 1, 2]);
  });

  it("makes no event object for a lock event, whoever listens for agent ends", () => {
    const log = new EventLog();
    const read = vi.spyOn(log as unknown as { read: () => unknown }, "read");
    const ended: number[] = [];
    log.onAgentEnd((id) => ended.push(id));
    for (let i = 0; i < 100; i++) {
      log.granted(1, `p${i}`, "exclusive", i + 1, 1000, 0);
      log.released(1, `p${i}`, "exclusive", i + 1, "released", undefined, 0);
    }
    expect(read).not.toHaveBeenCalled();
    log.emit({ type: "agent/crashed", agent_id: 5, released: [] }, 0);
    expect(ended).toEqual([5]);
    expect(read).not.toHaveBeenCalled();
  });
});
