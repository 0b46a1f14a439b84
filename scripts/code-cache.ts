// The last step of every build (esbuild.mjs runs dist/scripts/code-cache.js):
// makes the sidecar's V8 code cache, dist/harn-registry.cache (see
// src/cli/launch.ts). Runs the built bin through a short session with
// HARN_REGISTRY_CODE_CACHE=write, so that the cache holds the code a start
// and the usual first requests run (SESSION), then checks that a fresh
// start takes it. Children run without NODE_OPTIONS: V8 flags given there
// would be the cache's, and a plain start would refuse it.
import { spawn } from "node:child_process";
import { encodeFrame } from "../src/transport/framing.js";

const BIN = "bin/harn-registry";
/**
 * A host's usual first calls, some of which need zod (a default left out, a hash, a bad param): V8 caches the code
 * they run, zod's too, so that the first of them does not compile it. A start that needs none of it pays nothing
 * measurable for it.
 */
const SESSION = [
  { id: 1, method: "initialize", params: { client_name: "build" } },
  { id: 2, method: "current_seq" },
  { id: 3, method: "agent_register", params: { name: "build" } },
  { id: 4, method: "lock_try", params: { agent_id: 1, path: "a" } },
  { id: 5, method: "lock_acquire", params: { agent_id: 1, paths: ["b"] } },
  { id: 6, method: "version_record", params: { agent_id: 1, path: "b", hash: "123" } },
  { id: 7, method: "lock_release", params: { agent_id: 1, path: "a" } },
  {
    id: 8,
    method: "builtin_call",
    params: { name: "hostlib_code_index_lock_try", args: [{ agent_id: 1, path: "c" }] },
  },
  { id: 9, method: "agent_heartbeat", params: { agent_id: 1 } },
  { id: 10, method: "lock_try", params: { agent_id: "one", path: "a" } },
  { id: 11, method: "status" },
  { id: 12, method: "shutdown" },
  { method: "exit" },
];

/** Run the bin with `args`, `mode` and `input`; resolves to its stderr once it exits 0. */
function run(args: string[], mode: "write" | "check", input: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, HARN_REGISTRY_CODE_CACHE: mode };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve(stderr) : reject(new Error(`${BIN} exited ${code}: ${stderr}`)),
    );
    child.stdin.end(input);
  });
}

const frames = SESSION.map((message) => encodeFrame("content-length", JSON.stringify({ jsonrpc: "2.0", ...message })));
await run([], "write", frames.join(""));
const check = await run(["--version"], "check", "");
if (!check.includes("code cache used")) throw new Error(`the bin does not use the code cache just made: ${check}`);
