import type { Message } from "vscode-jsonrpc/node";
import { describeValue } from "../core/errors.js";
import { type RequestId, exactId, idText } from "./request-id.js";
import { type TransportError, invalidRequest } from "./rpc-errors.js";

/** A message fit for dispatch, one that needs no answer, or the error to answer. */
export type Checked = { ok: Message } | { ignore: string } | { error: TransportError };

/**
 * Check the JSON-RPC 2.0 envelope of a parsed message (`text` is what it
 * was parsed from). vscode-jsonrpc drops malformed messages silently; we
 * answer -32600 instead. Responses sent to us are ignored (we never send
 * requests). A numeric id is replaced by the id to echo (see exactId), in
 * the message handed on and in errors.
 */
export function checkEnvelope(value: unknown, text: string): Checked {
  if (Array.isArray(value)) {
    return invalid(null, "batches are not supported: send each request as its own message");
  }
  if (typeof value !== "object" || value === null)
    return invalid(null, `a message must be a JSON object, got ${describeValue(value)}`);
  const message = value as Record<string, unknown>;
  const hasId = "id" in message;
  let id = message.id;
  if (typeof id === "number" || typeof id === "bigint") message.id = id = exactId(text, id);
  else if (hasId && typeof id !== "string")
    return invalid(null, `id must be a string or a number, got ${describeValue(id)}`);
  const replyId = hasId ? (id as RequestId) : null;
  if (message.jsonrpc !== "2.0")
    return invalid(replyId, `jsonrpc must be "2.0", got ${describeValue(message.jsonrpc)}`);
  if (!("method" in message)) {
    if (replyId !== null && ("result" in message || "error" in message))
      return { ignore: `a response (id ${idText(replyId)}) although no request was sent` };
    return invalid(replyId, "message has no method");
  }
  if (typeof message.method !== "string")
    return invalid(replyId, `method must be a string, got ${describeValue(message.method)}`);
  return { ok: message as unknown as Message };
}

function invalid(id: RequestId | null, problem: string): Checked {
  return { error: invalidRequest(id, problem) };
}
