import type { NetConnectOpts } from "node:net";

/** Where a socket server listens: a unix socket path, or a loopback TCP port. */
export type ListenAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Parse `unix:PATH` or `tcp:HOST:PORT` (HOST must be loopback); a string is a one-line problem. */
export function parseListenAddress(spec: string): ListenAddress | string {
  if (spec.startsWith("unix:")) {
    const path = spec.slice(5);
    return path.length > 0 ? { kind: "unix", path } : "unix: needs a socket path, as in unix:/tmp/harn-registry.sock";
  }
  if (spec.startsWith("tcp:")) {
    const at = spec.lastIndexOf(":");
    const host = spec.slice(4, at);
    const port = Number(spec.slice(at + 1));
    if (at <= 4 || !/^[0-9]+$/.test(spec.slice(at + 1)) || port > 65535)
      return `must be tcp:HOST:PORT, as in tcp:127.0.0.1:7411, got ${JSON.stringify(spec)}`;
    if (!LOOPBACK.has(host))
      return `binds loopback only (127.0.0.1, localhost or [::1]), got host ${JSON.stringify(host)}`;
    return { kind: "tcp", host: host === "[::1]" ? "::1" : host, port };
  }
  return `must be unix:PATH or tcp:127.0.0.1:PORT, got ${JSON.stringify(spec)}`;
}

/** How `net.connect` reaches the server at `address`. */
export function connectOptions(address: ListenAddress): NetConnectOpts {
  return address.kind === "unix" ? { path: address.path } : { host: address.host, port: address.port };
}

/** The address as --listen spells it. */
export function formatListenAddress(address: ListenAddress): string {
  return address.kind === "unix"
    ? `unix:${address.path}`
    : `tcp:${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}
