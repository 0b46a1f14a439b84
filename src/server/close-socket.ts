import type { Socket } from "node:net";
import { FLUSH_BOUND_MS } from "./writer.js";

/**
 * Close a socket for good, whatever its peer does: a connection the server
 * is done with is destroyed, never left half-closed for a peer that keeps
 * its end open. Call it when the server decides; from then on input is read
 * and dropped (unread input would turn the close into a reset that loses
 * the replies). Returns `finish`, to call once the owed replies are written
 * (the session's drain bounds that by the peer's progress): then FIN, then
 * the socket is destroyed; with `abandoned` (they could not all be written:
 * the peer does not read) it is destroyed at once.
 */
export function closeForGood(socket: Socket): (abandoned: boolean) => void {
  if (socket.destroyed) return () => {};
  socket.resume();
  return (abandoned) => {
    if (abandoned || socket.destroyed) {
      socket.destroy();
      return;
    }
    const cutOff = setTimeout(() => socket.destroy(), FLUSH_BOUND_MS);
    socket.once("close", () => clearTimeout(cutOff));
    socket.end(() => socket.destroy());
  };
}
