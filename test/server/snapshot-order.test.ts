// The `snapshot` reply writes every map keyed by path in code-unit order,
// integer-like paths included ("9" after "10"), as the bytes on the wire
// show; snapshot → restore → snapshot gives the same bytes.
import { describe, expect, it } from "vitest";
import { INDEX_LIKE_PATHS, IN_CODE_UNIT_ORDER, mapsOutOfOrder } from "../support/index-like-paths.js";
import { frameBodies } from "../support/wire-frames.js";
import { WireSession } from "../support/wire-session.js";
import { tempDir } from "../support/temp-dir.js";

/** The body of the reply to `id`, as the session wrote it. */
function replyBody(session: WireSession, id: number): string {
  const start = `{"jsonrpc":"2.0","id":${id},`;
  const body = frameBodies(session.framing, session.stdout).find((each) => each.startsWith(start));
  if (body === undefined) throw new Error(`no reply to ${id}`);
  return body;
}

/** The reply's result as written: the text after `"result":`. */
const resultText = (body: string) => body.slice(body.indexOf('"result":') + '"result":'.length, -1);

describe.each([
  ["in memory", () => ({})],
  ["with --state", () => ({ statePath: tempDir("harn-order-") })],
  ["over Content-Length", () => ({ framing: "content-length" as const })],
])("the snapshot reply (%s)", (_how, options) => {
  it(
    "writes its path maps in code-unit order, integer-like paths included, " +
      "and snapshot → restore → snapshot gives the same bytes",
    async () => {
      const session = await WireSession.start(options());
      await session.call(1, "agent_register", { name: "one" });
      await session.call(2, "agent_register", { name: "two" });
      let id = 10;
      for (const path of INDEX_LIKE_PATHS) {
        expect(
          (await session.call(id++, "lock_try", { agent_id: 1, path, ttl_ms: 60_000 + path.length })).result,
        ).toEqual({ locked: true, holder: 1 });
        await session.call(id++, "version_record", { agent_id: 2, path, hash: "14695981039346656037" });
      }
      await session.call(id++, "lock_acquire", { agent_id: 2, paths: ["3", "20", "b"], mode: "shared" });
      const first = (await session.call(100, "snapshot")).result;
      const text = resultText(replyBody(session, 100));
      expect(Object.keys(JSON.parse(text).versions.history).sort()).toEqual(IN_CODE_UNIT_ORDER);
      expect(mapsOutOfOrder(text, first)).toEqual([]);
      expect(text).toContain(`"history":{"0":[`);
      expect(text.indexOf('"10":[')).toBeLessThan(text.indexOf('"9":['));
      expect(text.indexOf('"4294967295":[')).toBeLessThan(text.indexOf('"9":['));

      expect((await session.call(101, "restore", { snapshot: first, reap: false })).error).toBeUndefined();
      await session.call(102, "snapshot");
      expect(resultText(replyBody(session, 102))).toBe(text);
    },
  );
});
