// The README's "session to type in", run as written through the built bin,
// must give the replies the README describes.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { RawSidecar } from "../support/sidecar-process.js";

const readme = readFileSync("README.md", "utf8");
const block = /## A session to type in[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

let sidecar: RawSidecar | undefined;
afterEach(() => sidecar?.kill());

describe("README session", () => {
  it("answers as the README says", async () => {
    const lines = block.trim().split("\n");
    expect(lines).toHaveLength(11);
    sidecar = new RawSidecar("ndjson");
    sidecar.sendRaw(`${lines.join("\n")}\n`);
    expect((await sidecar.endInput()).code).toBe(0);
    const replies = sidecar.allMessages();
    expect(replies.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(replies.slice(0, 7).map((r) => r.result)).toEqual([
      1,
      2,
      { locked: true, holder: 1 },
      { locked: false, holder: 1 },
      1,
      true,
      { locked: true, holder: 2 },
    ]);
    expect(replies[7].result.agents.map((a: { name: string }) => a.name)).toEqual(["editor", "helper"]);
    expect(replies[8].result[0].hash).toBe("14695981039346656037");
    expect(replies[9].error).toMatchObject({
      code: -32602,
      message: "lock_try: agent_id must be an integer from 1 to 2^53-1",
    });
    expect(replies[10].result).toMatchObject({
      granted: false,
      locks: [],
      conflicts: [{ path: "src/main.rs", holder: 2 }],
    });
  });
});
