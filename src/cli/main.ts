import pkg from "../../package.json" with { type: "json" };
import { oneLine } from "./failure.js";
import { runStdioServer } from "../server/stdio.js";
import { parseArgs } from "./parse.js";

const command = parseArgs(process.argv.slice(2));
/** A failure: one line naming what failed and why, exit 1; never a stack. */
const failing = (who: string) => (error: unknown) => {
  process.stderr.write(`${who}: ${oneLine(error)}\n`);
  process.exit(1);
};
/** A subcommand: every failure, thrown or not, ends as one line. */
const subcommand = (word: string, run: () => Promise<unknown>) => {
  const fail = failing(`harn-registry ${word}`);
  process.on("uncaughtException", fail).on("unhandledRejection", fail);
  run().catch(fail);
};
if ("help" in command) process.stdout.write(`${command.help}\n`);
else if ("version" in command) process.stdout.write(`${pkg.version}\n`);
else if ("error" in command) {
  process.stderr.write(`harn-registry: ${command.error}\n`);
  process.exitCode = 2;
} else if ("connect" in command)
  subcommand("connect", () =>
    import("../transport/connect-bridge.js").then(({ runConnectBridge }) => runConnectBridge(command.connect)),
  );
else if ("status" in command)
  subcommand("status", () => import("./status.js").then(({ runStatus }) => runStatus(command.status)));
else if ("demo" in command) subcommand("demo", () => import("./demo.js").then(({ runDemo }) => runDemo()));
else if ("socket" in command)
  import("../server/socket.js")
    .then(({ runSocketServer }) => runSocketServer(command.socket))
    .catch(failing("harn-registry"));
else runStdioServer(command.stdio).catch(failing("harn-registry"));
