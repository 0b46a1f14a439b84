import { createServer } from "node:net";

/**
 * Bind a unix socket to `name` in Linux's abstract namespace. The kernel
 * lets one socket at a time hold a name and frees it when its process dies,
 * however it dies (kill -9 included), and no file is left behind. Resolves
 * with a function that frees the name, or undefined when another socket
 * holds it. The socket accepts nothing (connections are closed at once) and
 * does not keep the process alive.
 */
export function bindAbstractName(name: string): Promise<(() => void) | undefined> {
  const server = createServer((connection) => connection.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(undefined);
      else reject(error);
    });
    server.listen({ path: `\0${name}` }, () => {
      server.unref();
      resolve(() => server.close());
    });
  });
}
