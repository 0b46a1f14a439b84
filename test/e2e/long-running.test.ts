// Long-running and shared: a server that serves any number of connections
// for as long as it runs. Replies are never lost when a client half-closes
// (raw, or through the connect bridge, also with --state and a waiting
// lock_acquire); what one connection may have queued is bounded (a
// subscriber or a pipelining peer that does not read neither grows the
// server nor keeps its slot); a connection leaves nothing behind when it
// ends; a signal stops reading at once and answers what was received; and
// crashed records of closed connections do not fill --max-agents.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, RawSidecar } from "../support/sidecar-process.js";
import { RawPeer, SocketClient, SocketServer } from "../support/socket-client.js";
import { tempDir } from "../support/temp-dir.js";
import { type Json, type WireFraming, frame, frameBodies, req, request } from "../support/wire-frames.js";

const servers: SocketServer[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const sockets: Socket[] = [];
const clients: SocketClient[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of clients.splice(0)) client.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const server of servers.splice(0)) server.kill();
});

const TOKEN = "s3cret-token";
const EXIT = '{"jsonrpc":"2.0","method":"exit"}';

async function serve(
  args: string[],
): Promise<{ server: SocketServer; address: string; path: string; stateDir: string }> {
  const dir = tempDir("harn-long-");
  const path = join(dir, "registry.sock");
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, TOKEN);
  const tcp = args.includes("tcp");
  const flags = args.filter((arg) => arg !== "tcp").map((arg) => arg.replace("STATE", join(dir, "state")));
  const server = new SocketServer([
    tcp ? "--listen=tcp:127.0.0.1:0" : `--listen=unix:${path}`,
    ...(tcp ? [`--auth-token-file=${tokenFile}`] : []),
    ...flags,
  ]);
  servers.push(server);
  return { server, address: await server.listening, path, stateDir: join(dir, "state") };
}

async function client(address: string): Promise<SocketClient> {
  const opened = await SocketClient.open(address);
  clients.push(opened);
  return opened;
}

/** The resident set of a process, in MiB. */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1]) / 1024;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

/** `harn-registry connect` as a host spawns it; its stdout is read only when told (see {@link readSlowly}). */
class Bridge {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = Buffer.alloc(0);
  stderr = "";
  /** Resolves once the process has exited and its stdout and stderr are read to their end. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(address: string, readNow = true) {
    this.child = spawn(process.execPath, [BIN, "connect", `--listen=${address}`], { stdio: ["pipe", "pipe", "pipe"] });
    children.push(this.child);
    this.child.stdin.on("error", () => {});
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once("close", (code, signal) => resolve({ code, signal })));
    if (readNow) this.readAll();
  }

  /** Read everything as it comes. */
  readAll(): void {
    this.child.stdout.on("data", (chunk: Buffer) => (this.stdout = Buffer.concat([this.stdout, chunk])));
  }

  /**
   * Read about `bytes` every `everyMs`: a host that reads slowly but steadily (once the bridge has exited, the rest at
   * once).
   */
  readSlowly(bytes: number, everyMs: number): void {
    const timer = setInterval(() => {
      const chunk = (this.child.stdout.read(bytes) ?? this.child.stdout.read()) as Buffer | null;
      if (chunk !== null) this.stdout = Buffer.concat([this.stdout, chunk]);
    }, everyMs);
    this.child.once("exit", () => {
      clearInterval(timer);
      this.readAll();
    });
  }

  messages(framing: WireFraming): Json[] {
    return frameBodies(framing, this.stdout).map((body) => JSON.parse(body));
  }
}

/**
 * A raw NDJSON connection that counts what it is sent without keeping or
 * parsing it (a test's WirePeer keeps every byte, far too slow for a
 * flood): replies, events (each a message with a method), and the
 * events/dropped notifications, which it keeps. Our server writes every
 * message as `{"jsonrpc":"2.0","id"...` or `{"jsonrpc":"2.0","method"...`.
 */
class Counter {
  replies = 0;
  events = 0;
  dropped: Json[] = [];
  private line = "";

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.take(chunk));
    socket.on("error", () => {});
  }

  static async open(address: string): Promise<Counter> {
    const socket = address.startsWith("unix:")
      ? connect(address.slice(5))
      : connect({ port: Number(address.slice(address.lastIndexOf(":") + 1)), host: "127.0.0.1" });
    sockets.push(socket);
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new Counter(socket);
  }

  send(...bodies: string[]): boolean {
    return this.socket.write(frame("ndjson", ...bodies));
  }

  private take(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(0x0a, at);
      const end = newline === -1 ? chunk.length : newline;
      // Only the first 40 bytes of a line are looked at: enough to tell a reply, an event and events/dropped apart.
      if (this.line.length < 40) this.line += chunk.toString("latin1", at, Math.min(end, at + 40));
      if (newline === -1) break;
      this.count(this.line);
      this.line = "";
      at = newline + 1;
    }
  }

  private count(head: string): void {
    if (head.startsWith('{"jsonrpc":"2.0","id"')) this.replies++;
    else if (head.startsWith('{"jsonrpc":"2.0","method":"events/drop')) this.dropped.push(head);
    else this.events++;
  }
}

/**
 * Pipelined lock_try + lock_release pairs (two events each) on one
 * connection for `ms`, at most `perSecond` pairs a second (so that a
 * subscriber in this process keeps up), at most 4,000 requests in flight;
 * returns the pairs sent once all are answered.
 */
async function flood(counter: Counter, agent: number, ms: number, perSecond: number): Promise<number> {
  const started = Date.now();
  let sent = 0;
  const pair = [
    request(0, "lock_try", { agent_id: agent, path: `flood/${agent}` }),
    request(0, "lock_release", { agent_id: agent, path: `flood/${agent}` }),
  ];
  while (Date.now() < started + ms) {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
    if (sent < due && sent * 2 - counter.replies < 4000) {
      const batch: string[] = [];
      for (let i = 0; i < 250; i++) batch.push(...pair);
      counter.send(...batch);
      sent += 250;
    } else await pause(2);
  }
  await until(() => counter.replies >= sent * 2, 20_000, "the flood's replies");
  return sent;
}

describe("replies when a client half-closes", () => {
  it.each<[string, WireFraming, string[]]>([
    ["in memory, NDJSON", "ndjson", []],
    ["with --state, Content-Length", "content-length", ["--state=STATE"]],
  ])(
    "through connect, %s: every reply (the waiting lock_acquire's -32800 too) " +
      "reaches a host that reads slowly, and the bridge exits 0",
    async (_what, framing, args) => {
      const { address } = await serve(args);
      const holder = await client(address);
      expect((await holder.call(1, "lock_try", { agent_id: 1, path: "held" })).result).toEqual({
        locked: true,
        holder: 1,
      });
      const bridge = new Bridge(address, false);
      const count = 20_000;
      const bodies = Array.from({ length: count }, (_, i) =>
        request(i, "version_record", { agent_id: 0, path: `some/longer/path/to/make/the/replies/bigger/${i}` }),
      );
      bodies.splice(count / 2, 0, request("wait", "lock_acquire", { agent_id: 2, paths: ["held"], wait_ms: 60_000 }));
      bridge.child.stdin.end(frame(framing, ...bodies));
      // About 1 MB of replies taken 8 KiB every 60 ms: some 6 s, far past the 2 s the old server gave a closing peer.
      bridge.readSlowly(8 * 1024, 60);
      const exited = await bridge.exited;
      expect({ ...exited, stderr: bridge.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
      const replies = bridge.messages(framing);
      expect(replies).toHaveLength(count + 1);
      expect(replies.filter((reply) => reply.id !== "wait").map((reply) => reply.result)).toEqual(
        Array.from({ length: count }, (_, i) => i + 1),
      );
      expect(replies.find((reply) => reply.id === "wait")).toMatchObject({ error: { code: -32800 } });
      expect(bridge.stderr).toBe("");
    },
  );

  it("a raw peer that half-closes and reads slowly gets every reply, with --state", async () => {
    const { path } = await serve(["--state=STATE"]);
    const socket = connect({ path, allowHalfOpen: true });
    sockets.push(socket);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.pause();
    const count = 40_000;
    socket.end(
      frame(
        "ndjson",
        ...Array.from({ length: count }, (_, i) =>
          request(i, "version_record", { agent_id: 0, path: `some/longer/path/to/make/the/replies/bigger/${i}` }),
        ),
      ),
    );
    // About 1.5 MB taken 16 KiB every 60 ms: some 6 s; the old server cut the peer off 2 s after its FIN.
    let data = Buffer.alloc(0);
    const timer = setInterval(() => {
      const chunk = (socket.read(16 * 1024) ?? socket.read()) as Buffer | null;
      if (chunk !== null) data = Buffer.concat([data, chunk]);
    }, 60);
    await new Promise((resolve) => socket.once("end", resolve));
    clearInterval(timer);
    const replies = frameBodies("ndjson", data, true).map((body) => JSON.parse(body));
    expect(replies.map((reply) => reply.result)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  });

  it(
    "connect exits 1 with one line naming the server " + "when it is killed mid-session or refuses the session",
    async () => {
      const { server, address } = await serve(["--max-connections=1"]);
      const first = new Bridge(address);
      first.child.stdin.write(frame("ndjson", request(1, "agent_register")));
      await until(() => first.messages("ndjson").length === 1, 5000, "the first reply");
      const refused = new Bridge(address);
      refused.child.stdin.end(frame("ndjson", request(1, "current_seq")));
      expect(await refused.exited).toEqual({ code: 1, signal: null });
      expect(refused.messages("ndjson")).toMatchObject([{ id: 1, error: { code: 1007 } }]);
      expect(refused.stderr).toBe(
        `harn-registry connect: ${address} refused the session: ` +
          `current_seq: the server already serves --max-connections 1 connections; try again later\n`,
      );

      first.child.stdin.write(frame("ndjson", request(2, "lock_acquire", { agent_id: 1, paths: ["x"] })));
      await until(() => first.messages("ndjson").length === 2, 5000, "the second reply");
      server.kill();
      expect(await first.exited).toEqual({ code: 1, signal: null });
      expect(first.stderr).toMatch(
        new RegExp(
          `^harn-registry connect: ${address} closed the connection while the host was still connected: .*\\n$`,
        ),
      );
    },
  );
});

describe("what one connection may have queued is bounded", () => {
  it(
    "a subscriber that stops reading under an event flood loses its subscription (events/dropped), " +
      "the server stays small, the others are unaffected",
    async () => {
      const { server, address } = await serve(["--max-queued-bytes=2097152"]);
      const paused = await RawPeer.open(address);
      paused.send(req(1, "initialize", { events: true }));
      const flooder = await Counter.open(address);
      await pause(200);
      const before = rssMiB(server.child.pid as number);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.child.pid as number))), 100);
      const pairs = await flood(flooder, 7, 4000, Number.POSITIVE_INFINITY);
      clearInterval(sampler);
      // The old server kept every event for the paused peer: tens of MB a second.
      expect(peak - before).toBeLessThan(48);
      // A subscriber that reads gets every event meanwhile (at a pace this process keeps up with): a grant and a
      // release per pair.
      const reading = await Counter.open(address);
      reading.send(request(1, "initialize", { events: true }));
      await until(() => reading.replies === 1, 5000, "the reading subscriber's initialize");
      const more = await flood(flooder, 7, 1500, 10_000);
      await until(
        () => reading.events >= more * 2 || reading.dropped.length > 0,
        20_000,
        `every event at the reading subscriber: ${JSON.stringify({ ...reading, socket: undefined })}`,
      );
      expect({ events: reading.events, dropped: reading.dropped }).toEqual({ events: more * 2, dropped: [] });
      paused.halfClose();
      const got = await paused.readToEnd(20_000);
      const dropped = got.filter((message: Json) => message.method === "events/dropped");
      expect(dropped).toHaveLength(1);
      const sent = got
        .filter((message: Json) => message.params?.event_seq !== undefined)
        .map((message: Json) => message.params.event_seq);
      expect(dropped[0].params).toEqual({ latest_seq: sent.at(-1) });
      expect(got.at(-1)).toEqual(dropped[0]);
      expect(sent.length).toBeLessThan(pairs * 2);
      expect(sent.every((seq: number, index: number) => index === 0 || seq === sent[index - 1] + 1)).toBe(true);
      expect(server.stderr).toMatch(/connection 1: events dropped after event_seq \d+/);
    },
  );

  it(
    "through a bridge whose host stops reading: " +
      "the server and the bridge stay small; the host catches up from events/dropped",
    async () => {
      const { server, address } = await serve(["--max-queued-bytes=1048576"]);
      const bridge = new Bridge(address, false);
      bridge.child.stdout.pause();
      bridge.child.stdin.write(frame("ndjson", request(1, "initialize", { events: true })));
      const flooder = await Counter.open(address);
      await pause(300);
      const before = { server: rssMiB(server.child.pid as number), bridge: rssMiB(bridge.child.pid as number) };
      let peak = { ...before };
      const sampler = setInterval(() => {
        peak = {
          server: Math.max(peak.server, rssMiB(server.child.pid as number)),
          bridge: Math.max(peak.bridge, rssMiB(bridge.child.pid as number)),
        };
      }, 100);
      await flood(flooder, 8, 3000, Number.POSITIVE_INFINITY);
      clearInterval(sampler);
      expect(peak.server - before.server).toBeLessThan(48);
      expect(peak.bridge - before.bridge).toBeLessThan(48);
      bridge.readAll();
      bridge.child.stdout.resume();
      await until(() => bridge.stdout.includes('"events/dropped"'), 10_000, "events/dropped through the bridge");
      const dropped = bridge.messages("ndjson").find((message) => message.method === "events/dropped");
      bridge.child.stdin.write(
        frame("ndjson", request(2, "events_subscribe"), request(3, "events_since", { seq: dropped.params.latest_seq })),
      );
      bridge.child.stdin.end();
      expect(await bridge.exited).toEqual({ code: 0, signal: null });
      const [subscribed, since] = bridge.messages("ndjson").filter((message) => message.id === 2 || message.id === 3);
      expect(subscribed.result.latest_seq).toBeGreaterThan(dropped.params.latest_seq);
      expect(since.result).toMatchObject({ latest_seq: subscribed.result.latest_seq });
      expect(since.result.events.at(-1).event_seq).toBe(subscribed.result.latest_seq);
    },
  );

  it.each([
    [
      "the default --max-queued-bytes: it reads shutdown and exit, then takes nothing for 5 s",
      [],
      /connection 2: the peer did not take its replies within 5000 ms; cut off/,
    ],
    [
      "--max-queued-bytes=65536: its replies pass it",
      ["--max-queued-bytes=65536"],
      new RegExp(
        "connection 2: exiting with code 1: the peer does not read its replies: " +
          String.raw`\d+ bytes of them were queued, past --max-queued-bytes 65536; cut off`,
      ),
    ],
  ])(
    "a peer that pipelines 20,000 requests + shutdown + exit and never reads loses its slot (%s); " +
      "its agents crash; the others are unaffected",
    async (_what, args, logged) => {
      const { server, address } = await serve(["tcp", "--max-connections=2", ...args]);
      const other = await client(address);
      expect((await other.call("auth", "initialize", { auth_token: TOKEN })).result).toMatchObject({
        protocol_version: "1",
      });
      // 8 locks make each lock_list reply some 600 bytes: 12 MB in all, past the socket's buffers, within the default
      // 16 MiB.
      expect(
        (
          await other.call("many", "lock_acquire", {
            agent_id: 9,
            paths: Array.from({ length: 8 }, (_, i) => `held/by/the/other/host/${i}`),
          })
        ).result.granted,
      ).toBe(true);
      const peer = await RawPeer.open(address);
      const bodies = [
        request("auth", "initialize", { auth_token: TOKEN }),
        request("lock", "lock_try", { agent_id: 5, path: "mine" }),
      ];
      for (let i = 0; i < 20_000; i++) bodies.push(request(i, "lock_list"));
      peer.write(frame("ndjson", ...bodies, request("down", "shutdown"), EXIT));
      // The third slot-taker is served once the peer is cut off: the old server kept its slot for good.
      const deadline = Date.now() + 8000;
      let third: SocketClient | undefined;
      for (;;) {
        const candidate = await client(address);
        const answer = await candidate.call("auth", "initialize", { auth_token: TOKEN });
        if (answer.error === undefined) {
          third = candidate;
          break;
        }
        expect(answer.error.code).toBe(1007);
        if (Date.now() > deadline) throw new Error(`the peer kept its slot: ${server.stderr}`);
        await pause(200);
      }
      await server.waitForLog(logged);
      expect((await third.call(1, "agent_get", { agent_id: 5 })).result).toMatchObject({ state: "crashed", locks: [] });
      expect((await other.call(1, "lock_try", { agent_id: 6, path: "mine" })).result).toEqual({
        locked: true,
        holder: 6,
      });
      peer.destroy();
    },
  );
});

describe("a connection leaves nothing behind", () => {
  it("churning 4,000 connections with --state keeps the server's memory flat", async () => {
    const { server, address } = await serve(["--state=STATE"]);
    // Agents and paths are reused (a crashed agent is taken by the next connection), so that the registry itself does
    // not grow.
    const lifetime = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const agent = (n % 8) + 1;
        const socket = connect(address.slice(5));
        let replies = 0;
        let rest = "";
        socket.setEncoding("utf8");
        socket.on("data", (text: string) => {
          const lines = (rest + text).split("\n");
          rest = lines.pop() as string;
          for (const line of lines) if (line.startsWith('{"jsonrpc":"2.0","id"') && ++replies === 3) socket.end();
        });
        socket.on("error", reject);
        socket.on("close", () =>
          replies >= 3 ? resolve() : reject(new Error(`lifetime ${n} closed after ${replies} replies`)),
        );
        socket.write(
          frame(
            "ndjson",
            request(1, "initialize", { events: true }),
            request(2, "lock_try", { agent_id: agent, path: `p/${agent}` }),
            request(3, "version_record", { agent_id: agent, path: `p/${agent}` }),
          ),
        );
      });
    const churn = async (from: number, count: number) => {
      const lanes = 8;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let n = from + lane; n < from + count; n += lanes) await lifetime(n);
        }),
      );
    };
    await churn(1, 800);
    const before = rssMiB(server.child.pid as number);
    const seen: number[] = [];
    for (let round = 0; round < 4; round++) {
      await churn(1001 + round * 1000, 1000);
      seen.push(rssMiB(server.child.pid as number) - before);
    }
    await server.waitForLog(/connection 4800 closed/);
    // The heap settles (the first rounds grow it to its working size), then stays: the old server kept each
    // --state connection's writer for good, about 10 KB (measured here: +12, +25, +34, +45 MB; now about +3, +16, +18,
    // +18).
    expect(
      (seen[3] as number) - (seen[1] as number),
      `RSS growth after each 1,000 connections: ${seen.map((mb) => mb.toFixed(1)).join(", ")} MiB`,
    ).toBeLessThan(8);
    const host = await client(address);
    expect((await host.call(1, "metrics")).result.connections).toBe(1);
  });
});

describe("signals", () => {
  type Transport = "stdio" | "socket";
  interface Case {
    transport: Transport;
    state: boolean;
    during: "flood" | "wait";
    signal: NodeJS.Signals;
  }
  const cases: Case[] = [
    { transport: "stdio", state: false, during: "flood", signal: "SIGTERM" },
    { transport: "stdio", state: true, during: "flood", signal: "SIGHUP" },
    { transport: "stdio", state: false, during: "wait", signal: "SIGINT" },
    { transport: "stdio", state: true, during: "wait", signal: "SIGTERM" },
    { transport: "socket", state: false, during: "flood", signal: "SIGINT" },
    { transport: "socket", state: true, during: "flood", signal: "SIGTERM" },
    { transport: "socket", state: false, during: "wait", signal: "SIGHUP" },
    { transport: "socket", state: true, during: "wait", signal: "SIGINT" },
  ];

  it.each(cases)(
    "$signal on $transport (state: $state) during a $during: " +
      "reading stops at once, what was received is answered and on disk, exit 0",
    async ({ transport, state, during, signal }) => {
      const dir = tempDir("harn-signal-");
      const stateArgs = state ? [`--state=${join(dir, "state")}`] : [];
      let pid: number;
      let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
      let write: (text: string) => void;
      let output: () => Buffer;
      let socketPath: string | undefined;
      let stateDir = join(dir, "state");
      if (transport === "stdio") {
        const sidecar = new RawSidecar("ndjson", stateArgs);
        children.push(sidecar.child);
        pid = sidecar.child.pid as number;
        exited = new Promise((resolve) => sidecar.child.once("close", (code, signal) => resolve({ code, signal })));
        write = (text) => sidecar.sendRaw(text);
        output = () => sidecar.stdout;
      } else {
        const served = await serve(stateArgs.length > 0 ? ["--state=STATE"] : []);
        socketPath = served.path;
        stateDir = served.stateDir;
        pid = served.server.child.pid as number;
        exited = served.server.exited;
        const peer = await SocketClient.open(served.address);
        clients.push(peer);
        write = (text) => peer.sendRaw(text);
        output = () => peer.stdout;
      }
      let sent = 0;
      let flooding = true;
      if (during === "wait") {
        write(
          frame(
            "ndjson",
            request("hold", "lock_try", { agent_id: 1, path: "held" }),
            request("wait", "lock_acquire", { agent_id: 2, paths: ["held"], wait_ms: 60_000 }),
          ),
        );
        await until(() => frameBodies("ndjson", output()).length === 1, 5000, "the lock_try's reply");
        process.kill(pid, signal);
      } else {
        const batch = () => {
          if (!flooding) return;
          const bodies: string[] = [];
          for (let i = 0; i < 500; i++, sent++)
            bodies.push(request(sent, "version_record", { agent_id: 0, path: `f/${sent % 97}` }));
          write(frame("ndjson", ...bodies));
          setTimeout(batch, 1);
        };
        batch();
        await until(() => output().length > 0, 5000, "the first replies");
        await pause(300);
        process.kill(pid, signal);
        await pause(400);
      }
      const ended = await exited;
      flooding = false;
      expect(ended).toEqual({ code: 0, signal: null });
      const replies = frameBodies("ndjson", output()).map((body) => JSON.parse(body));
      if (during === "wait") {
        expect(replies).toMatchObject([
          { id: "hold", result: { locked: true } },
          { id: "wait", error: { code: -32800 } },
        ]);
      } else {
        // Every change executed was answered, in order: seqs 1..N with no gap, and with --state N on disk, nothing
        // more.
        expect(replies.length).toBeGreaterThan(0);
        expect(replies.length).toBeLessThan(sent);
        expect(replies.every((reply, index) => reply.id === index && reply.result === index + 1)).toBe(true);
        if (state) {
          const again = new RawSidecar("ndjson", [`--state=${stateDir}`]);
          children.push(again.child);
          expect((await again.call(1, "current_seq")).result).toBe(replies.length);
        }
      }
      if (socketPath !== undefined) expect(existsSync(socketPath)).toBe(false);
    },
  );

  it(
    "a stdio server whose host does not read exits 0 within its flush bound on SIGTERM " + "(it used to hang)",
    async () => {
      const sidecar = new RawSidecar("ndjson");
      children.push(sidecar.child);
      sidecar.child.stdout.pause();
      sidecar.sendRaw(frame("ndjson", ...Array.from({ length: 20_000 }, (_, i) => request(i, "lock_list"))));
      await pause(500);
      const signalled = Date.now();
      sidecar.child.kill("SIGTERM");
      expect(await sidecar.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(9000);
      expect(sidecar.stderr).toContain("the peer did not take its replies within 5000 ms; cut off");
    },
  );
});

describe("crashed records and --max-agents", () => {
  it("many connection lifetimes never fill --max-agents; a restart replays the same evictions", async () => {
    const { server, address } = await serve(["--max-agents=5", "--state=STATE"]);
    for (let lifetime = 1; lifetime <= 30; lifetime++) {
      const host = await SocketClient.open(address);
      expect((await host.call(1, "agent_register", { name: `host ${lifetime}` })).result).toBe(lifetime);
      host.close();
      await host.closed;
      await server.waitForLog(new RegExp(`connection ${lifetime} closed: agents ${lifetime} crashed`));
    }
    const live = await client(address);
    const agents = (await live.call(1, "agent_list")).result;
    expect(agents.map((agent: Json) => [agent.id, agent.state])).toEqual(
      [26, 27, 28, 29, 30].map((id) => [id, "crashed"]),
    );
    for (let i = 0; i < 5; i++) expect((await live.call(`r${i}`, "agent_register")).error).toBeUndefined();
    expect((await live.call("full", "agent_register")).error).toMatchObject({ code: 1007 });
    const listed = (await live.call(2, "agent_list")).result;
    server.kill();
    await server.exited;
    const again = new SocketServer(server.child.spawnargs.slice(2));
    servers.push(again);
    const host = await client(await again.listening);
    expect((await host.call(1, "agent_list")).result.map((agent: Json) => agent.id)).toEqual(
      listed.map((agent: Json) => agent.id),
    );
  });
});
