// The zod schemas that code loaded at start (the server, the core) uses
// only now and then: validation that the server's prechecks leave to zod,
// hashes, snapshots. That code reaches them through zodSchemas()
// (on-demand.ts), never by importing this module.
export { HashInput } from "./common.js";
export { methods } from "./methods.js";
export { precheck } from "./precheck.js";
export {
  HostlibSnapshotInput,
  REQUIRED_SNAPSHOT_SECTIONS,
  SnapshotAgentEntry,
  SnapshotInput,
  SnapshotV1AgentEntry,
  SnapshotV1Input,
} from "./snapshot.js";
