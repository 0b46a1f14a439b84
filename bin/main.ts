import pkg from "../package.json" with { type: "json" };
import { runStdioServer } from "../src/server/stdio.js";
import { USAGE, parseFlags } from "./flags.js";

const command = parseFlags(process.argv.slice(2));
if ("help" in command) {
  process.stdout.write(`${USAGE}\n`);
} else if ("version" in command) {
  process.stdout.write(`${pkg.version}\n`);
} else if ("error" in command) {
  process.stderr.write(`harn-registry: ${command.error}\n`);
  process.exitCode = 2;
} else {
  runStdioServer(command.run);
}
