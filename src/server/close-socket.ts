import type { Socket } from "node:net";

/** How long a closing connection's owed replies may take to leave; a peer that does not read them is cut off then. */
export const FLUSH_BOUND_MS = 2000;

/**
 * Close a socket for good, whatever its peer does: a connection the server
 * is done with is destroyed, never left half-closed for a peer that keeps
 * its end open. Call it when the server decides; from then on input is read
 * and dropped (unread input would turn the close into a reset that loses
 * the replies). Returns `finish`, to call once the owed replies are
 * written: they leave, then FIN, then the socket is destroyed. A peer that
 * does not read them is cut off FLUSH_BOUND_MS after the decision.
 */
export function closeForGood(socket: Socket, log: (line: string) => void): () => void {
  if (socket.destroyed) return () => {};
  const cutOff = setTimeout(() => {
    log(`the peer did not take its replies within ${FLUSH_BOUND_MS} ms; cut off`);
    socket.destroy();
  }, FLUSH_BOUND_MS);
  socket.once("close", () => clearTimeout(cutOff));
  socket.resume();
  return () => socket.end(() => socket.destroy());
}
