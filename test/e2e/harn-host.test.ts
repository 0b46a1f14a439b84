// Harn's wire through the built bin on a socket server (--listen): two Harn
// hosts forward their VMs' builtin_call lines unchanged (NDJSON, no
// initialize, integer ids). Ownership applies to the method carried
// (not_owner, worded as harn-hostlib's backend_error), each connection has
// its own current-agent slot, and a host that goes away takes its agents
// and its slots with it.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkHostlib } from "../support/hostlib-schemas.js";
import { SocketClient, SocketServer } from "../support/socket-client.js";
import { tempDir } from "../support/temp-dir.js";
import type { Json } from "../support/wire-frames.js";

const servers: SocketServer[] = [];
const clients: SocketClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) server.kill();
});

/** One Harn host's connection: each call is a builtin_call line as the VM sent it. */
class Host {
  private id = 0;
  constructor(readonly peer: SocketClient) {}

  async builtin(method: string, params?: Json): Promise<Json> {
    const id = ++this.id;
    const args = params === undefined ? "" : JSON.stringify(params);
    this.peer.send(
      `{"jsonrpc":"2.0","id":${id},"method":"builtin_call",` +
        `"params":{"name":"hostlib_code_index_${method}","args":[${args}]}}`,
    );
    const reply = await this.peer.next();
    expect(reply.id).toBe(id);
    return reply;
  }

  /** A call that must succeed; its result, checked against harn-hostlib's schema when it has one. */
  async ok(method: string, params?: Json, schema = true): Promise<Json> {
    const reply = await this.builtin(method, params);
    expect(reply.error, JSON.stringify(reply.error)).toBeUndefined();
    if (schema) expect(checkHostlib(`${method}.response.json`, reply.result)).toBeNull();
    return reply.result;
  }
}

async function host(address: string): Promise<Host> {
  const client = await SocketClient.open(address);
  clients.push(client);
  return new Host(client);
}

describe("Harn hosts on a socket server", () => {
  it(
    "forward builtin_call lines: ownership of the agent carried, " +
      "a slot per connection, agents crash with their host",
    async () => {
      const server = new SocketServer([`--listen=unix:${join(tempDir("harn-host-"), "registry.sock")}`]);
      servers.push(server);
      const address = await server.listening;
      const a = await host(address);
      const b = await host(address);

      expect(await a.ok("agent_register", { name: "alice", agent_id: 1 })).toBe(1);
      expect(await b.ok("agent_register", { name: "bob", agent_id: 2 })).toBe(2);
      expect(await a.ok("lock_try", { agent_id: 1, path: "src/main.ts", ttl_ms: 60_000 })).toEqual({
        locked: true,
        holder: 1,
      });
      expect(await b.ok("lock_try", { agent_id: 2, path: "src/main.ts" })).toEqual({ locked: false, holder: 1 });
      expect(await b.builtin("lock_release", { agent_id: 1, path: "src/main.ts" })).toMatchObject({
        error: {
          code: 1008,
          message:
            "hostlib: hostlib_code_index_lock_release: agent 1 is live and belongs to another connection; " +
            "only that connection may act as it until it crashes or is unregistered",
          data: {
            method: "lock_release",
            error: "not_owner",
            kind: "backend_error",
            builtin: "hostlib_code_index_lock_release",
          },
        },
      });
      expect(await b.builtin("lock_acquire", { agent_id: 1, paths: ["docs"] })).toMatchObject({
        error: { code: 1008, data: { kind: "backend_error" } },
      });

      expect(await a.ok("current_agent_set", { agent_id: 1 }, false)).toBeNull();
      expect(await b.ok("current_agent_set", { agent_id: 2 }, false)).toBeNull();
      expect(await a.ok("current_agent_id")).toBe(1);
      expect(await b.ok("current_agent_id")).toBe(2);

      a.peer.close();
      await a.peer.closed;
      await server.waitForLog(/agents 1 crashed/);
      const status = await b.ok("status");
      expect(status.agents.map((agent: Json) => [agent.id, agent.state])).toEqual([
        [1, "crashed"],
        [2, "active"],
      ]);
      expect(await b.ok("lock_try", { agent_id: 2, path: "src/main.ts" })).toEqual({ locked: true, holder: 2 });
      expect(await b.ok("current_agent_id")).toBe(2);
      b.peer.send({ jsonrpc: "2.0", id: "m", method: "metrics" });
      const metrics = (await b.peer.next()).result;
      expect(metrics.requests).toMatchObject({
        agent_register: 2,
        lock_try: 3,
        lock_release: 1,
        lock_acquire: 1,
        current_agent_set: 2,
        current_agent_id: 3,
        status: 1,
      });
      expect(metrics.requests.builtin_call).toBeUndefined();
      expect(metrics.errors).toEqual({ "1008": 2 });
    },
  );
});
