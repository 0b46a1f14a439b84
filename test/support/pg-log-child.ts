// A sidecar's log in a process of its own, for the reaper tests: opens a log
// in the given schema, appends one entry claiming the given agents, prints
// `ready <sidecar id>`, then waits to be killed.
// Usage: node <bundle> URL SCHEMA keep|crash '[agent ids]'
import { openPgLog } from "../../src/storage/postgres/pg-log.js";

const [url = "", schema, keep, claims = "[]"] = process.argv.slice(2);
const log = await openPgLog(url, { schema, clock: "system", keepAgents: keep === "keep", log: () => {} });
await log.append(0, 1, [{ op: "register", a: "[]" }], { claims: JSON.parse(claims) });
process.stdout.write(`ready ${log.sidecarId}\n`);
setInterval(() => {}, 60_000);
