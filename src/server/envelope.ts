import type { Message } from "vscode-jsonrpc/node";
import { RpcErrorCodes } from "../../protocol/errors.js";
import { describeValue } from "../core/errors.js";

/** An error the transport answers itself, before dispatch. */
export interface TransportError {
  id: string | number | null;
  code: number;
  message: string;
}

/** A message fit for dispatch, one that needs no answer, or the error to answer. */
export type Checked = { ok: Message } | { ignore: string } | { error: TransportError };

/**
 * Check the JSON-RPC 2.0 envelope of a parsed message. vscode-jsonrpc drops
 * malformed messages silently; we answer -32600 instead. Responses sent to
 * us are ignored (we never send requests).
 */
export function checkEnvelope(value: unknown): Checked {
  if (Array.isArray(value)) {
    return invalid(null, "batches are not supported: send each request as its own message");
  }
  if (typeof value !== "object" || value === null) return invalid(null, `a message must be a JSON object, got ${describeValue(value)}`);
  const message = value as Record<string, unknown>;
  const hasId = "id" in message;
  const id = message.id;
  const validId = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
  if (hasId && !validId) {
    return invalid(null, `id must be a string or a number, got ${describeValue(id)}`);
  }
  const replyId = validId ? (id as string | number) : null;
  if (message.jsonrpc !== "2.0") return invalid(replyId, `jsonrpc must be "2.0", got ${describeValue(message.jsonrpc)}`);
  if (!("method" in message)) {
    if (hasId && ("result" in message || "error" in message)) return { ignore: `a response (id ${JSON.stringify(id)}) although no request was sent` };
    return invalid(replyId, "message has no method");
  }
  if (typeof message.method !== "string") return invalid(replyId, `method must be a string, got ${describeValue(message.method)}`);
  return { ok: message as unknown as Message };
}

function invalid(id: string | number | null, message: string): Checked {
  return { error: { id, code: RpcErrorCodes.InvalidRequest, message: `Invalid request: ${message}` } };
}
