import pkg from "../package.json" with { type: "json" };
import { runStdioServer } from "../src/server/stdio.js";
import { parseFlags } from "./flags.js";

const command = parseFlags(process.argv.slice(2));
const fail = (error: unknown) => {
  process.stderr.write(`harn-registry: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
};
if ("help" in command) {
  process.stdout.write(`${command.help}\n`);
} else if ("version" in command) {
  process.stdout.write(`${pkg.version}\n`);
} else if ("error" in command) {
  process.stderr.write(`harn-registry: ${command.error}\n`);
  process.exitCode = 2;
} else if ("connect" in command) {
  import("../src/transport/connect-bridge.js").then(({ runConnectBridge }) => runConnectBridge(command.connect), fail);
} else if ("status" in command) {
  import("../src/cli/status.js").then(({ runStatus }) => runStatus(command.status)).catch(fail);
} else if ("demo" in command) {
  import("../src/cli/demo.js").then(({ runDemo }) => runDemo()).catch(fail);
} else if ("socket" in command) {
  import("../src/server/socket.js").then(({ runSocketServer }) => runSocketServer(command.socket)).catch(fail);
} else {
  runStdioServer(command.stdio).catch(fail);
}
