// The typed Node client of harn-registry: spawn a sidecar, connect to a
// socket server, or talk over any stream pair.
export type { HostCallable, MethodName, ParamsOf, ResultOf } from "../../protocol/methods.js";
export type { EventName, EventOf, RegistryEvent } from "../../protocol/events.js";
export { type ParamsArg, type RegistryClient, createClient } from "./client.js";
export { type ConnectOptions, connectRegistry } from "./connect.js";
export { RegistryClosedError } from "./closed-error.js";
export { type Sidecar, type SpawnOptions, spawnSidecar } from "./spawn.js";
