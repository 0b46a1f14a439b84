// --listen: many hosts on one registry over a unix socket or loopback TCP;
// connection-owned agents, disconnects, auth, limits, the connect bridge.
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connectRegistry } from "../../src/client/index.js";
import { RawSidecar } from "../support/sidecar-process.js";
import { req } from "../support/wire-frames.js";
import { RawPeer, SocketClient, SocketServer } from "../support/socket-client.js";
import { tempDir } from "../support/temp-dir.js";

const servers: SocketServer[] = [];
const clients: SocketClient[] = [];
const bridges: RawSidecar[] = [];
const peers: RawPeer[] = [];
const fresh = () => tempDir("harn-socket-");
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const peer of peers.splice(0)) peer.destroy();
  for (const bridge of bridges.splice(0)) bridge.kill();
  for (const server of servers.splice(0)) server.kill();
});

async function serve(args: string[]): Promise<{ server: SocketServer; address: string }> {
  const server = new SocketServer(args);
  servers.push(server);
  return { server, address: await server.listening };
}

async function unixServer(extra: string[] = []) {
  const path = join(fresh(), "registry.sock");
  return { ...(await serve([`--listen=unix:${path}`, ...extra])), path };
}

async function client(address: string): Promise<SocketClient> {
  const opened = await SocketClient.open(address);
  clients.push(opened);
  return opened;
}

const notOwner = (id: number | string, method: string, agent: number) => ({
  jsonrpc: "2.0",
  id,
  error: {
    code: 1008,
    message:
      `${method}: agent ${agent} is live and belongs to another connection; ` +
      `only that connection may act as it until it crashes or is unregistered`,
    data: { method, error: "not_owner" },
  },
});

describe("unix socket server", () => {
  it("listens on a socket file of mode 0600", async () => {
    const { path } = await unixServer();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it(
    "two hosts share one registry: conflicts across hosts, " +
      "not_owner for a foreign live agent, locks freed when a host disconnects",
    async () => {
      const { address, server } = await unixServer();
      const a = await client(address);
      const b = await client(address);
      expect((await a.call(1, "agent_register", { name: "alpha" })).result).toBe(1);
      expect((await a.call(2, "lock_try", { agent_id: 1, path: "src/a.rs" })).result).toEqual({
        locked: true,
        holder: 1,
      });
      expect((await b.call(1, "agent_register", { name: "beta" })).result).toBe(2);
      expect((await b.call(2, "lock_try", { agent_id: 2, path: "src/a.rs" })).result).toEqual({
        locked: false,
        holder: 1,
      });
      for (const [method, params] of [
        ["agent_heartbeat", { agent_id: 1 }],
        ["lock_release", { agent_id: 1, path: "src/a.rs" }],
        ["lock_try", { agent_id: 1, path: "src/b.rs" }],
        ["lock_acquire", { agent_id: 1, paths: ["src/b.rs"] }],
        ["lock_release_all", { agent_id: 1 }],
        ["lock_renew", { agent_id: 1 }],
        ["version_record", { agent_id: 1, path: "src/a.rs" }],
        ["agent_unregister", { agent_id: 1 }],
        ["agent_register", { agent_id: 1, name: "stolen" }],
      ] as const) {
        expect(await b.call(3, method, params)).toEqual(notOwner(3, method, 1));
      }
      expect((await b.call(4, "lock_holder", { path: "src/a.rs" })).result).toBe(1);
      expect((await b.call(5, "version_record", { agent_id: 0, path: "src/a.rs" })).result).toBe(1);
      a.close();
      await a.closed;
      await server.waitForLog(/connection 1 closed: agents 1 crashed, their locks freed/);
      expect((await b.call(6, "agent_get", { agent_id: 1 })).result).toMatchObject({ state: "crashed", locks: [] });
      expect((await b.call(7, "lock_try", { agent_id: 2, path: "src/a.rs" })).result).toEqual({
        locked: true,
        holder: 2,
      });
      expect((await b.call(8, "agent_register", { agent_id: 1, name: "taken over" })).result).toBe(1);
      expect((await b.call(9, "agent_heartbeat", { agent_id: 1 })).result).toBe(true);
      const c = await client(address);
      expect(await c.call(1, "agent_heartbeat", { agent_id: 1 })).toEqual(notOwner(1, "agent_heartbeat", 1));
    },
  );

  it("never grants a lock to two hosts at once under contention (waiting acquires, fenced writes)", async () => {
    const { address } = await unixServer();
    const hosts = await Promise.all([client(address), client(address), client(address)]);
    let inside = 0;
    let maxInside = 0;
    let entries = 0;
    await Promise.all(
      hosts.map(async (host, index) => {
        const agent = index + 1;
        await host.call("r", "agent_register", { agent_id: agent, name: `host ${agent}` });
        for (let round = 0; round < 40; round++) {
          const granted = await host.call(`a${round}`, "lock_acquire", {
            agent_id: agent,
            paths: [round % 2 === 0 ? "shared/file" : "shared"],
            wait_ms: 10_000,
          });
          expect(granted.result?.granted).toBe(true);
          inside++;
          entries++;
          maxInside = Math.max(maxInside, inside);
          const fence = granted.result.locks[0].fence;
          const written = await host.call(`w${round}`, "version_record", {
            agent_id: agent,
            path: "shared/file",
            fence,
          });
          expect(written.error).toBeUndefined();
          inside--;
          await host.call(`x${round}`, "lock_release_all", { agent_id: agent });
        }
      }),
    );
    expect(entries).toBe(120);
    expect(maxInside).toBe(1);
  });

  it("with --keep-agents-on-disconnect a closed host's agents stay active with their locks", async () => {
    const { address } = await unixServer(["--keep-agents-on-disconnect"]);
    const a = await client(address);
    await a.call(1, "lock_try", { agent_id: 5, path: "kept" });
    a.close();
    await a.closed;
    const b = await client(address);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await b.call(1, "agent_get", { agent_id: 5 })).result).toMatchObject({
      state: "active",
      locks: [{ path: "kept" }],
    });
    expect((await b.call(2, "agent_heartbeat", { agent_id: 5 })).result).toBe(true);
  });

  it("past --max-connections answers the first request with quota_exceeded and closes", async () => {
    const { address } = await unixServer(["--max-connections=1"]);
    const first = await client(address);
    expect((await first.call(1, "current_seq")).result).toBe(0);
    const second = await client(address);
    expect(await second.call(1, "current_seq")).toEqual({
      jsonrpc: "2.0",
      id: 1,
      error: {
        code: 1007,
        message: "current_seq: the server already serves --max-connections 1 connections; try again later",
        data: { method: "current_seq", error: "quota_exceeded" },
      },
    });
    await second.closed;
    expect((await first.call(2, "current_seq")).result).toBe(0);
  });

  it("enforces --max-agents and --max-locks-per-agent with quota_exceeded, changing nothing", async () => {
    const { address } = await unixServer(["--max-agents=2", "--max-locks-per-agent=2"]);
    const host = await client(address);
    await host.call(1, "agent_register", { name: "a" });
    await host.call(2, "agent_register", { name: "b" });
    expect((await host.call(3, "agent_register", { name: "c" })).error).toMatchObject({
      code: 1007,
      data: { error: "quota_exceeded" },
    });
    expect((await host.call(4, "lock_acquire", { agent_id: 1, paths: ["x", "y", "z"] })).error).toMatchObject({
      code: 1007,
      message: "lock_acquire: agent 1 would hold 3 locks, past --max-locks-per-agent 2",
    });
    expect((await host.call(5, "lock_list")).result).toEqual([]);
    expect((await host.call(6, "agent_list")).result).toHaveLength(2);
  });

  it("refuses a second server on a live socket and replaces a stale socket file", async () => {
    const { path, server } = await unixServer();
    const second = new SocketServer([`--listen=unix:${path}`]);
    servers.push(second);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stderr).toContain(`another server is listening on unix:${path}; stop it or use another path`);
    server.kill();
    await server.exited;
    const third = await serve([`--listen=unix:${path}`]);
    const host = await client(third.address);
    expect((await host.call(1, "current_seq")).result).toBe(0);
  });

  it(
    "with --state keeps the shared registry across a kill -9; " +
      "recovered agents belong to whoever acts as them first",
    async () => {
      const dir = fresh();
      const path = join(dir, "registry.sock");
      const first = await serve([`--listen=unix:${path}`, `--state=${join(dir, "state")}`]);
      const a = await client(first.address);
      await a.call(1, "lock_try", { agent_id: 3, path: "durable.rs" });
      first.server.kill();
      await first.server.exited;
      const second = await serve([`--listen=unix:${path}`, `--state=${join(dir, "state")}`]);
      const b = await client(second.address);
      expect((await b.call(1, "lock_holder", { path: "durable.rs" })).result).toBe(3);
      expect((await b.call(2, "agent_heartbeat", { agent_id: 3 })).result).toBe(true);
      const c = await client(second.address);
      expect(await c.call(1, "agent_heartbeat", { agent_id: 3 })).toEqual(notOwner(1, "agent_heartbeat", 3));
    },
  );

  it("on SIGTERM closes every connection and exits 0", async () => {
    const { address, server } = await unixServer();
    const host = await client(address);
    await host.call(1, "agent_register", { name: "a" });
    server.child.kill("SIGTERM");
    await host.closed;
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});

describe("TCP server", () => {
  it("binds loopback and serves a connection whose first request is initialize with the token", async () => {
    const { address } = await tcpServer();
    expect(address).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    const host = await client(address);
    expect((await host.call(1, "initialize", { auth_token: "s3cret-token" })).result).toMatchObject({
      protocol_version: "1",
    });
    expect((await host.call(2, "agent_register", { name: "a" })).result).toBe(1);
    expect((await host.call(3, "initialize", { client_name: "again" })).result).toMatchObject({
      protocol_version: "1",
    });
  });

  it("serves the typed Node client (connectRegistry) with its token, over Content-Length", async () => {
    const { address } = await tcpServer();
    const typed = await connectRegistry(address, { authToken: "s3cret-token" });
    expect(await typed.request("lock_try", { agent_id: 3, path: "typed.rs" })).toEqual({ locked: true, holder: 3 });
    expect(await typed.request("lock_holder", { path: "typed.rs" })).toBe(3);
    typed.dispose();
    await expect(connectRegistry("tcp:10.0.0.1:1")).rejects.toThrow("connectRegistry: address binds loopback only");
  });

  it.each([
    [
      "a wrong token",
      "initialize",
      { auth_token: "guess" },
      "auth_token does not match the server's --auth-token-file",
    ],
    [
      "no token",
      "initialize",
      {},
      "auth_token is required on a TCP connection: send the content of the server's --auth-token-file",
    ],
    [
      "another method first",
      "agent_register",
      { name: "sneaky" },
      "not authenticated; the first request on a TCP connection must be initialize " +
        "with the auth_token from the server's --auth-token-file",
    ],
  ])(
    "refuses %s with unauthorized, saying which, and closes the connection, changing nothing",
    async (_what, method, params, problem) => {
      const { address } = await tcpServer();
      const intruder = await client(address);
      expect(await intruder.call(1, method, params)).toEqual({
        jsonrpc: "2.0",
        id: 1,
        error: {
          code: 1009,
          message: `${method}: ${problem}`,
          data: { method, error: "unauthorized" },
        },
      });
      await intruder.closed;
      const host = await client(address);
      await host.call(1, "initialize", { auth_token: "s3cret-token" });
      expect((await host.call(2, "agent_list")).result).toEqual([]);
    },
  );
});

describe("a peer cannot keep a connection slot", () => {
  const TOKEN = "s3cret-token";
  const AUTH = { jsonrpc: "2.0", id: "auth", method: "initialize", params: { auth_token: TOKEN } };
  const request = (id: number | string, method: string, params?: object) => ({
    jsonrpc: "2.0",
    id,
    method,
    ...(params !== undefined && { params }),
  });
  const lockAndExit = (agent: number) => [
    request(1, "lock_try", { agent_id: agent, path: `held/${agent}` }),
    request(2, "shutdown"),
    { jsonrpc: "2.0", method: "exit" },
  ];
  const locked = (agent: number) => [
    { id: 1, result: { locked: true, holder: agent } },
    { id: 2, result: null },
  ];

  async function peer(address: string): Promise<RawPeer> {
    const opened = await RawPeer.open(address);
    peers.push(opened);
    return opened;
  }

  /** A client that gets served (authenticated on TCP), retried until the deadline while the slots are not free yet. */
  async function served(address: string, deadline = Date.now() + 5000): Promise<SocketClient> {
    for (;;) {
      const host = await client(address);
      const answer = address.startsWith("tcp:")
        ? await host.call("auth", "initialize", { auth_token: TOKEN })
        : await host.call("seq", "current_seq");
      if (answer.error === undefined) return host;
      if (Date.now() > deadline) throw new Error(`not served: ${JSON.stringify(answer.error)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  interface Hold {
    transport: "tcp" | "unix";
    /** Two served clients take both slots while the peers act (and leave afterwards). */
    whileFull?: boolean;
    /** More server flags. */
    args?: string[];
    /** What peer number `agent` does; it never reads and never closes unless this says so. */
    act(peer: RawPeer, agent: number): void;
    /** What the server owes it, written before the server closes. */
    owed(agent: number): object[];
  }

  // Two such peers against --max-connections=2; the old server kept both slots (or its agents and locks) for good.
  it.each<[string, Hold]>([
    ["TCP: sends nothing", { transport: "tcp", act: () => {}, owed: () => [] }],
    [
      "TCP: sends part of an NDJSON message and stalls",
      {
        transport: "tcp",
        act: (p) => p.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"auth_'),
        owed: () => [],
      },
    ],
    [
      "TCP: sends part of a Content-Length frame and stalls",
      { transport: "tcp", act: (p) => p.write('Content-Length: 200\r\n\r\n{"jsonrpc":"2.0",'), owed: () => [] },
    ],
    [
      "TCP: sends a wrong token, then stays open",
      {
        transport: "tcp",
        act: (p) => p.send(request(1, "initialize", { auth_token: "guess" })),
        owed: () => [{ id: 1, error: { code: 1009 } }],
      },
    ],
    [
      "TCP: authenticates while every slot is taken (quota_exceeded), then stays open",
      {
        transport: "tcp",
        whileFull: true,
        act: (p) => p.send(AUTH),
        owed: () => [{ id: "auth", error: { code: 1007 } }],
      },
    ],
    [
      "TCP: locks, sends shutdown and exit, then stays open",
      {
        transport: "tcp",
        act: (p, agent) => p.send(AUTH, ...lockAndExit(agent)),
        owed: (agent) => [{ id: "auth", result: { protocol_version: "1" } }, ...locked(agent)],
      },
    ],
    [
      "unix: locks, sends shutdown and exit, then stays open",
      { transport: "unix", act: (p, agent) => p.send(...lockAndExit(agent)), owed: locked },
    ],
    [
      "unix: sends a request while every slot is taken (quota_exceeded), then stays open",
      {
        transport: "unix",
        whileFull: true,
        act: (p) => p.send(request(1, "current_seq")),
        owed: () => [{ id: 1, error: { code: 1007 } }],
      },
    ],
    [
      "unix: finds every slot taken and sends nothing",
      { transport: "unix", whileFull: true, act: () => {}, owed: () => [] },
    ],
    [
      "unix, journaled: locks, then half-closes and stays open",
      {
        transport: "unix",
        args: ["--state=STATE"],
        act: (p, agent) => {
          p.send(request(1, "lock_try", { agent_id: agent, path: `held/${agent}` }));
          p.halfClose();
        },
        owed: (agent) => [{ id: 1, result: { locked: true, holder: agent } }],
      },
    ],
  ])(
    "%s: the server closes it for good, frees its slot, crashes its agents and frees their locks",
    async (_what, hold) => {
      const args = [
        "--max-connections=2",
        "--auth-timeout-ms=300",
        ...(hold.args ?? []).map((arg) => arg.replace("STATE", join(fresh(), "state"))),
      ];
      const { server, address } = hold.transport === "tcp" ? await tcpServer(TOKEN, args) : await unixServer(args);
      const fillers = hold.whileFull ? [await served(address), await served(address)] : [];
      const stalled = [await peer(address), await peer(address)];
      stalled.forEach((p, index) => {
        hold.act(p, index + 1);
      });
      for (let index = 1; index <= stalled.length; index++)
        await server.waitForLog(new RegExp(`connection ${fillers.length + index}: exiting`));
      for (const filler of fillers) filler.close();

      const [a, b] = [await served(address), await served(address)];
      expect((await a.call(1, "lock_list")).result).toEqual([]);
      expect(
        (await b.call(1, "agent_list")).result.every((agent: { state: string }) => agent.state === "crashed"),
      ).toBe(true);
      for (const [index, p] of stalled.entries()) {
        expect(await p.readToEnd()).toMatchObject(hold.owed(index + 1));
        await server.waitForLog(new RegExp(`connection ${fillers.length + index + 1} closed`));
      }
    },
  );

  it.each([
    ["after exit", "unix", [request(1, "shutdown"), { jsonrpc: "2.0", method: "exit" }], [{ id: 1, result: null }]],
    [
      "after a refused token",
      "tcp",
      [request(1, "initialize", { auth_token: "guess" }), AUTH],
      [{ id: 1, error: { code: 1009 } }],
    ],
  ] as const)("serves nothing a peer sends %s, even in the same write", async (_what, transport, first, owed) => {
    const { address } = transport === "tcp" ? await tcpServer(TOKEN) : await unixServer();
    const stalled = await peer(address);
    stalled.send(...first, request(2, "lock_try", { agent_id: 7, path: "late" }), request(3, "current_seq"));
    expect(await stalled.readToEnd()).toMatchObject(owed);
    const host = await served(address);
    expect((await host.call(1, "agent_list")).result).toEqual([]);
  });

  it(
    "connections waiting to authenticate take no served slot; " + "past --max-connections of them the oldest is closed",
    async () => {
      const { server, address } = await tcpServer(TOKEN, ["--max-connections=2", "--auth-timeout-ms=60000"]);
      const waiting = [await peer(address), await peer(address)];
      waiting[1]?.write('{"jsonrpc":"2.0","id":1,');
      const [a, b] = [await served(address, 0), await served(address, 0)];
      expect((await a.call(1, "metrics")).result.connections).toBe(2);
      expect((await b.call(1, "current_seq")).result).toBe(0);
      await peer(address);
      await server.waitForLog(/connection 1: exiting with code 0: .*waiting/);
      expect(await waiting[0]?.readToEnd()).toEqual([]);
      expect(server.stderr).not.toMatch(/connection 2: exiting/);
    },
  );

  it("a peer that asks to exit but does not read what it is owed is cut off; its agents crash", async () => {
    const { server, address } = await unixServer();
    const other = await client(address);
    for (let batch = 0; batch < 20; batch++) {
      const paths = Array.from({ length: 250 }, (_, index) => `big/${batch}/${String(index).padStart(3, "0")}`);
      expect((await other.call(batch, "lock_acquire", { agent_id: 99, paths })).result.granted).toBe(true);
    }
    const stalled = await peer(address);
    // About 3 MB of lock_list replies, far past what the socket buffers hold.
    stalled.send(
      ...lockAndExit(1).slice(0, 1),
      ...Array.from({ length: 10 }, (_, index) => request(`list${index}`, "lock_list")),
      ...lockAndExit(1).slice(1),
    );
    const deadline = Date.now() + 10_000;
    let mine: { state: string; locks: object[] } | undefined;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      mine = (await other.call("get", "agent_get", { agent_id: 1 })).result;
    } while (mine?.state !== "crashed" && Date.now() < deadline);
    expect(mine).toMatchObject({ state: "crashed", locks: [] });
    expect((await other.call(2, "lock_holder", { path: "held/1" })).result).toBeNull();
    expect(server.stderr).toMatch(/connection 2: the peer did not take its replies within \d+ ms; cut off/);
  });
});

describe("harn-registry connect", () => {
  function bridge(args: string[], framing: "ndjson" | "content-length" = "ndjson"): RawSidecar {
    const sidecar = new RawSidecar(framing, ["connect", ...args]);
    bridges.push(sidecar);
    return sidecar;
  }

  it("bridges stdio to a unix socket server, in both framings, sharing its registry", async () => {
    const { address } = await unixServer();
    const ndjson = bridge([`--listen=${address}`]);
    expect((await ndjson.call(1, "lock_try", { agent_id: 1, path: "a" })).result).toEqual({ locked: true, holder: 1 });
    const lsp = bridge([`--listen=${address}`], "content-length");
    expect((await lsp.call(1, "lock_try", { agent_id: 2, path: "a" })).result).toEqual({ locked: false, holder: 1 });
    expect((await lsp.call(2, "lock_holder", { path: "a" })).result).toBe(1);
    expect(await ndjson.endInput()).toEqual({ code: 0, signal: null });
  });

  it("authenticates to a TCP server with the token file, so the host never sees the token", async () => {
    const { address, tokenFile } = await tcpServer();
    for (const framing of ["ndjson", "content-length"] as const) {
      const host = bridge([`--listen=${address}`, `--auth-token-file=${tokenFile}`], framing);
      expect((await host.call(1, "initialize", { client_name: "host" })).result).toMatchObject({
        protocol_version: "1",
      });
      expect((await host.call(2, "current_seq")).result).toBe(0);
      expect(host.allMessages().map((message) => message.id)).toEqual([1, 2]);
    }
  });

  it("exits 1 with one line when the token is refused or nobody listens", async () => {
    const { address } = await tcpServer();
    const dir = fresh();
    writeFileSync(join(dir, "wrong"), "nope");
    const refused = bridge([`--listen=${address}`, `--auth-token-file=${join(dir, "wrong")}`]);
    refused.send(req(1, "current_seq"));
    expect(await refused.exited).toEqual({ code: 1, signal: null });
    expect(refused.stderr).toMatch(
      /^harn-registry connect: authentication refused: initialize: auth_token does not match/,
    );
    const nobody = bridge([`--listen=unix:${join(dir, "none.sock")}`]);
    expect(await nobody.exited).toEqual({ code: 1, signal: null });
    expect(nobody.stderr).toMatch(/^harn-registry connect: cannot reach unix:.*none\.sock: connect ENOENT/);
  });
});

async function tcpServer(token = "s3cret-token", extra: string[] = []) {
  const dir = fresh();
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${token}\n`);
  return { ...(await serve(["--listen=tcp:127.0.0.1:0", `--auth-token-file=${tokenFile}`, ...extra])), tokenFile };
}
