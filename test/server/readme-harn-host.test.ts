// README's "From a Harn host" session, replayed as written on the manual
// clock: every `→` line forwarded, every reply compared with its `←` line
// byte for byte.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { frameBodies } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";

const readme = readFileSync("README.md", "utf8");
const section = readme.slice(readme.indexOf("### From a Harn host"), readme.indexOf("### From Rust"));
const transcript =
  [...section.matchAll(/```\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .find((block) => block.startsWith("→ ")) ?? "";

describe("README: From a Harn host", () => {
  it("its session answers exactly as written", async () => {
    const lines = transcript.trim().split("\n");
    const sent = lines.filter((line) => line.startsWith("→ ")).map((line) => line.slice(2));
    const answers = lines.filter((line) => line.startsWith("← ")).map((line) => line.slice(2));
    expect(sent.length).toBeGreaterThan(10);
    expect(answers).toHaveLength(sent.length);
    const s = await WireSession.start();
    for (const line of sent) s.send(line);
    await s.waitFor(sent.length);
    expect(frameBodies("ndjson", s.stdout)).toEqual(answers);
  });

  it("its first line is the builtin_call the VM sends, and it is served", async () => {
    const example = /```\n(\{"jsonrpc":"2\.0","id":7,"method":"builtin_call"[^\n]*)\n```/.exec(section)?.[1];
    expect(example).toBeDefined();
    const s = await WireSession.start();
    s.send(example as string);
    expect(await s.next()).toEqual({ jsonrpc: "2.0", id: 7, result: { locked: true, holder: 1 } });
  });
});
