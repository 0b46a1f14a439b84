// The typed client: every promise settles, whatever happens to the other
// side, with an error naming what happened; typed events; tokens read the
// same way as the server reads them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RegistryClient, RegistryClosedError, connectRegistry, spawnSidecar } from "../../src/client/index.js";
import type { EventOf } from "../../protocol/events.js";
import { SocketServer } from "../support/socket-client.js";
import { tempDir } from "../support/temp-dir.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Resolves with how `promise` settled, or fails the test when it has not within `ms`. */
async function settled<T>(promise: Promise<T>, ms = 5_000): Promise<{ value: T } | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function server(args: string[]): Promise<{ server: SocketServer; address: string }> {
  const started = new SocketServer(args);
  cleanups.push(() => started.kill());
  return { server: started, address: await started.listening };
}

/** A request left waiting in the server: agent 2 waits for agent 1's lock. */
async function waitingRequest(client: RegistryClient): Promise<{ pending: Promise<unknown> }> {
  await client.request("lock_acquire", { agent_id: 1, paths: ["f"] });
  const pending = client.request("lock_acquire", { agent_id: 2, paths: ["f"], wait_ms: 600_000 });
  expect(await client.request("lock_info", { path: "f" })).toMatchObject({ waiters: 1 });
  return { pending };
}

describe("every client promise settles", () => {
  it(
    "when the sidecar is killed with a request pending: " + "RegistryClosedError naming the signal and the method",
    async () => {
      const sidecar = spawnSidecar({ stderr: "ignore" });
      const { pending } = await waitingRequest(sidecar.client);
      sidecar.child.kill("SIGKILL");
      const outcome = await settled(pending);
      expect("error" in outcome && outcome.error).toBeInstanceOf(RegistryClosedError);
      expect("error" in outcome && (outcome.error as Error).message).toBe(
        "harn-registry: lock_acquire: the sidecar was killed by SIGKILL",
      );
      expect(await settled(sidecar.close())).toEqual({ value: null });
      expect(await settled(sidecar.close())).toEqual({ value: null });
    },
  );

  it("when the sidecar exits at start (a bad flag): the first request rejects with its exit code", async () => {
    const sidecar = spawnSidecar({ args: ["--no-such-flag"], stderr: "ignore" });
    const outcome = await settled(sidecar.client.request("current_seq"));
    expect("error" in outcome && (outcome.error as RegistryClosedError).reason).toBe("the sidecar exited with code 2");
    expect(await settled(sidecar.close())).toEqual({ value: 2 });
  });

  it("after dispose: a request rejects (it does not throw), and dispose and close are idempotent", async () => {
    const sidecar = spawnSidecar({ stderr: "ignore" });
    expect(await sidecar.client.request("current_seq")).toBe(0);
    sidecar.client.dispose();
    sidecar.client.dispose();
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = sidecar.client.request("current_seq"))).not.toThrow();
    const outcome = await settled(promise as Promise<unknown>);
    expect("error" in outcome && (outcome.error as Error).message).toBe(
      "harn-registry: current_seq: the client was disposed",
    );
    sidecar.child.kill("SIGKILL");
    expect(await settled(sidecar.close())).toEqual({ value: null });
  });

  it("when the socket server is killed: pending requests on connectRegistry reject naming the address", async () => {
    const dir = tempDir("harn-client-");
    const { server: running, address } = await server([`--listen=unix:${join(dir, "s.sock")}`]);
    const client = await connectRegistry(address);
    cleanups.push(() => client.dispose());
    const { pending } = await waitingRequest(client);
    running.kill();
    const outcome = await settled(pending);
    expect("error" in outcome && (outcome.error as RegistryClosedError).reason).toBe(
      `the server at ${address} closed the connection`,
    );
    expect(await settled(client.closed)).toEqual({ value: `the server at ${address} closed the connection` });
  });

  it("connectRegistry to nothing rejects naming the address", async () => {
    const address = `unix:${join(tempDir("harn-client-"), "none.sock")}`;
    const outcome = await settled(connectRegistry(address));
    expect("error" in outcome && (outcome.error as Error).message).toMatch(
      new RegExp(`^cannot reach ${address}: .*ENOENT`),
    );
  });
});

describe("tokens", () => {
  it(
    "a token read from its file by hand, trailing newline and all, " + "authenticates, and so does authTokenFile",
    async () => {
      const dir = tempDir("harn-client-");
      const file = join(dir, "token");
      writeFileSync(file, "s3cret\n");
      const { address } = await server(["--listen=tcp:127.0.0.1:0", `--auth-token-file=${file}`]);
      for (const options of [{ authToken: "s3cret\n" }, { authTokenFile: file }]) {
        const client = await connectRegistry(address, options);
        cleanups.push(() => client.dispose());
        expect(await client.request("current_seq")).toBe(0);
      }
      await expect(connectRegistry(address, { authTokenFile: join(dir, "missing") })).rejects.toThrow(
        `cannot read the auth token file ${join(dir, "missing")}: ENOENT`,
      );
    },
  );
});

describe("typed events", () => {
  it("onEvent hands each event to the handler of its name, typed", async () => {
    const sidecar = spawnSidecar({ stderr: "ignore" });
    cleanups.push(() => sidecar.child.kill("SIGKILL"));
    const granted: EventOf<"lock/granted">[] = [];
    const released: string[] = [];
    sidecar.client.onEvent("lock/granted", (event) => granted.push(event));
    const subscription = sidecar.client.onEvent("lock/released", (event) =>
      released.push(`${event.path}:${event.reason}`),
    );
    await sidecar.client.request("initialize", { events: true });
    await sidecar.client.request("lock_try", { agent_id: 1, path: "src/a.rs" });
    await sidecar.client.request("lock_release", { agent_id: 1, path: "src/a.rs" });
    subscription.dispose();
    await sidecar.client.request("lock_try", { agent_id: 1, path: "b" });
    await sidecar.client.request("lock_release", { agent_id: 1, path: "b" });
    expect(granted.map((event) => [event.path, event.mode, event.fence])).toEqual([
      ["src/a.rs", "exclusive", 1],
      ["b", "exclusive", 2],
    ]);
    expect(released).toEqual(["src/a.rs:released"]);
    expect(await sidecar.close()).toBe(0);
  });
});
