import { describe, expect, it } from "vitest";
import { HISTORY_PER_PATH } from "../../src/core/version-log.js";
import { manualRegistry } from "../support/manual-registry.js";

describe("version log", () => {
  it("assigns global seqs from 1 and reports current_seq", () => {
    const { reg, clock } = manualRegistry(5);
    expect(reg.currentSeq()).toBe(0);
    expect(reg.recordVersion({ path: "a", agentId: 0 })).toBe(1);
    clock.now = 9;
    expect(reg.recordVersion({ path: "./b", agentId: 0, op: "patch", hash: "42", size: 3 })).toBe(2);
    expect(reg.currentSeq()).toBe(2);
    expect(reg.changesSince(0)).toEqual([
      { path: "a", seq: 1, agent_id: 0, op: "write", hash: "0", size: 0, timestamp_ms: 5 },
      { path: "b", seq: 2, agent_id: 0, op: "patch", hash: "42", size: 3, timestamp_ms: 9 },
    ]);
  });

  it("changes_since is ascending, exclusive of seq, and limit keeps the most recent", () => {
    const { reg } = manualRegistry(0);
    for (let i = 0; i < 10; i++) reg.recordVersion({ path: `f${i % 3}`, agentId: 0 });
    expect(reg.changesSince(7).map((c) => c.seq)).toEqual([8, 9, 10]);
    expect(reg.changesSince(0, 4).map((c) => c.seq)).toEqual([7, 8, 9, 10]);
    expect(reg.changesSince(8, 5).map((c) => c.seq)).toEqual([9, 10]);
    expect(reg.changesSince(10)).toEqual([]);
    expect(reg.changesSince(99)).toEqual([]);
  });

  it("keeps the last 200 entries per path and drops older ones from changes_since", () => {
    const { reg } = manualRegistry(0);
    for (let i = 0; i < HISTORY_PER_PATH + 50; i++) reg.recordVersion({ path: "hot", agentId: 0 });
    reg.recordVersion({ path: "cold", agentId: 0 });
    const all = reg.changesSince(0);
    expect(all).toHaveLength(HISTORY_PER_PATH + 1);
    expect(all[0]?.seq).toBe(51);
    expect(reg.snapshot().versions.history.hot).toHaveLength(HISTORY_PER_PATH);
    expect(reg.changesSince(0, 3).map((c) => c.seq)).toEqual([249, 250, 251]);
  });

  it("stays correct across compaction of evicted entries", () => {
    const { reg } = manualRegistry(0);
    for (let i = 0; i < 5_000; i++) reg.recordVersion({ path: i % 2 === 0 ? "even" : `odd${i % 7}`, agentId: 0 });
    const all = reg.changesSince(0);
    const seqs = all.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(all.filter((c) => c.path === "even")).toHaveLength(HISTORY_PER_PATH);
    expect(all.filter((c) => c.path === "odd1")).toHaveLength(HISTORY_PER_PATH);
    expect(reg.changesSince(4_990).map((c) => c.seq)).toEqual([
      4_991, 4_992, 4_993, 4_994, 4_995, 4_996, 4_997, 4_998, 4_999, 5_000,
    ]);
  });

  it("keeps 64-bit hashes exact from bigint, number and decimal string", () => {
    const { reg } = manualRegistry(0);
    reg.recordVersion({ path: "a", agentId: 0, hash: 18446744073709551615n });
    reg.recordVersion({ path: "a", agentId: 0, hash: "18446744073709551614" });
    reg.recordVersion({ path: "a", agentId: 0, hash: 9007199254740991 });
    reg.recordVersion({ path: "a", agentId: 0, hash: "007" });
    expect(reg.changesSince(0).map((c) => c.hash)).toEqual([
      "18446744073709551615",
      "18446744073709551614",
      "9007199254740991",
      "7",
    ]);
  });

  it.each([
    [{ hash: 18446744073709551616n }, /hash must be an unsigned 64-bit integer/],
    [{ hash: "18446744073709551616" }, /hash must be an unsigned 64-bit integer/],
    [{ hash: -1 }, /hash must be an unsigned 64-bit integer/],
    [{ hash: 2 ** 60 }, /hash must be an unsigned 64-bit integer/],
    [{ hash: "0x10" }, /hash must be an unsigned 64-bit integer/],
    [{ op: "rename" }, /op must be one of snapshot, write/],
    [{ size: -1 }, /size must be an integer from 0/],
    [{ path: "../x" }, /path climbs above/],
    [{ agentId: -1 }, /agent_id must be an integer from 0/],
  ])("rejects bad input %# and records nothing", (bad, message) => {
    const { reg } = manualRegistry(0);
    expect(() => reg.recordVersion({ path: "a", agentId: 0, ...(bad as object) })).toThrow(message);
    expect(reg.currentSeq()).toBe(0);
  });

  it("attributes the edit to a known agent and ignores unknown ones", () => {
    const { reg } = manualRegistry(0);
    reg.register("a");
    reg.recordVersion({ path: "x", agentId: 1 });
    reg.recordVersion({ path: "x", agentId: 5 });
    expect(reg.getAgent(1)?.edit_count).toBe(1);
    expect(reg.getAgent(5)).toBeNull();
    expect(reg.changesSince(0).map((c) => c.agent_id)).toEqual([1, 5]);
  });
});
