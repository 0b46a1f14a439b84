// Baseline (a): a do-nothing JSON-RPC server on stock vscode-jsonrpc, with
// its own stream reader and writer (Content-Length framing), answering
// every request at once with null.
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from "vscode-jsonrpc/node";

const connection = createMessageConnection(
  new StreamMessageReader(process.stdin),
  new StreamMessageWriter(process.stdout),
);
connection.onRequest(() => null);
connection.onClose(() => process.exit(0));
connection.listen();
