/** A request that could not be answered because the connection to the sidecar or server ended; `reason` says how. */
export class RegistryClosedError extends Error {
  override name = "RegistryClosedError";

  constructor(
    /** How the connection ended: "the sidecar exited with code 1", "the server closed the connection", ... */
    readonly reason: string,
    method?: string,
  ) {
    super(method === undefined ? `harn-registry: ${reason}` : `harn-registry: ${method}: ${reason}`);
  }
}
