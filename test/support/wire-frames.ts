// The tests' own idea of the wire: how a message is framed, and how the
// bytes a server wrote split into messages. It is written independently of
// the server's framing (src/transport/framing.ts) on purpose, so that tests
// check the wire, not the server's idea of it, and it is the only such
// copy: every test helper (the bin's process, the in-process session, the
// socket clients) frames and splits through here, and nothing else in the
// tests parses a Content-Length header (test/transport/one-framing.test.ts).
export type WireFraming = "ndjson" | "content-length";

export type Json = any;

/** Frame message bodies for the wire, as a client writes them. */
export const frame = (framing: WireFraming, ...bodies: string[]): string =>
  bodies
    .map((body) => (framing === "ndjson" ? `${body}\n` : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`))
    .join("");

/**
 * The frame at `from` in what a server wrote: its body and where it ends; undefined while incomplete. Throws on a
 * header a server must not write.
 */
export function takeFrame(framing: WireFraming, data: Buffer, from: number): { body: string; end: number } | undefined {
  if (framing === "ndjson") {
    const newline = data.indexOf(0x0a, from);
    return newline === -1 ? undefined : { body: data.subarray(from, newline).toString(), end: newline + 1 };
  }
  const headerEnd = data.indexOf("\r\n\r\n", from);
  if (headerEnd === -1) return undefined;
  const header = data.subarray(from, headerEnd).toString();
  const match = /^Content-Length: (\d+)$/.exec(header);
  if (match === null) throw new Error(`bad header on stdout: ${JSON.stringify(header)}`);
  const start = headerEnd + 4;
  const end = start + Number(match[1]);
  return end > data.length ? undefined : { body: data.subarray(start, end).toString(), end };
}

/**
 * Every complete frame's body in `data`, in order; with `whole`, throws when bytes are left that are not a complete
 * frame.
 */
export function frameBodies(framing: WireFraming, data: Buffer, whole = false): string[] {
  const bodies: string[] = [];
  let at = 0;
  for (let frame = takeFrame(framing, data, 0); frame !== undefined; frame = takeFrame(framing, data, at)) {
    bodies.push(frame.body);
    at = frame.end;
  }
  if (whole && at < data.length)
    throw new Error(
      `the output has bytes that are not a complete frame at ${at}: ` +
        JSON.stringify(data.subarray(at, at + 80).toString()),
    );
  return bodies;
}

/** A request object. */
export const req = (id: Json, method: string, params?: Json): Json =>
  params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params };

/** A request's JSON text (a body to frame). */
export const request = (id: Json, method: string, params?: Json): string => JSON.stringify(req(id, method, params));

/**
 * One side of a connection to a server, for tests: sends framed messages
 * and reads the server's bytes as they arrive. Replies are read in order
 * ({@link next}); notifications met on the way go to {@link notifications}.
 */
export abstract class WirePeer {
  /** Every byte the server wrote. */
  stdout = Buffer.alloc(0);
  /** Notifications read past by {@link next}, in order. */
  readonly notifications: Json[] = [];
  private consumed = 0;
  private readonly wake = new Set<() => void>();

  constructor(
    /** The framing this peer writes and reads. */
    readonly framing: WireFraming,
  ) {}

  /** Write bytes as they are. */
  abstract sendRaw(data: string | Buffer): void;

  /** The server's log so far, for a failure message. */
  protected abstract serverLog(): string;

  /** Keep bytes the server wrote. */
  protected received(chunk: Buffer): void {
    this.stdout = Buffer.concat([this.stdout, chunk]);
    for (const wake of [...this.wake]) wake();
  }

  /** Frame and write one message (an object, or raw text as the body). */
  send(message: Json | string): void {
    this.sendRaw(frame(this.framing, typeof message === "string" ? message : JSON.stringify(message)));
  }

  /** Send a request and wait for the next reply. */
  async call(id: Json, method: string, params?: Json): Promise<Json> {
    this.send(req(id, method, params));
    return this.next();
  }

  /** The next reply, in order; notifications on the way go to {@link notifications}. */
  async next(timeoutMs = 10_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = takeFrame(this.framing, this.stdout, this.consumed);
      if (frame !== undefined) {
        this.consumed = frame.end;
        const message = JSON.parse(frame.body);
        if ("id" in message) return message;
        this.notifications.push(message);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; ${this.serverLog()}`);
      await this.moreBytes(50);
    }
  }

  /** Wait until `count` notifications have been read (reading replies past them). */
  async waitForNotifications(count: number, timeoutMs = 10_000): Promise<Json[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.notifications.length < count) {
      const frame = takeFrame(this.framing, this.stdout, this.consumed);
      if (frame === undefined) {
        if (Date.now() > deadline)
          throw new Error(`only ${this.notifications.length} of ${count} notifications within ${timeoutMs} ms`);
        await this.moreBytes(20);
        continue;
      }
      const message = JSON.parse(frame.body);
      if ("id" in message) throw new Error(`a reply came while waiting for notifications: ${frame.body}`);
      this.consumed = frame.end;
      this.notifications.push(message);
    }
    return this.notifications;
  }

  /** Every complete message written so far, parsed (in `framing`, by default this peer's). */
  messages(framing: WireFraming = this.framing): Json[] {
    return frameBodies(framing, this.stdout).map((body) => JSON.parse(body));
  }

  /** Wait until at least `count` messages were written; they are returned. */
  async waitFor(count: number, framing: WireFraming = this.framing, timeoutMs = 5_000): Promise<Json[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = this.messages(framing);
      if (messages.length >= count) return messages;
      if (Date.now() > deadline)
        throw new Error(
          `only ${messages.length} of ${count} messages within ${timeoutMs} ms: ` +
            `${JSON.stringify(messages)}; ${this.serverLog()}`,
        );
      await this.moreBytes(20);
    }
  }

  /** Everything written, split into messages; throws if any byte is not part of a well-formed JSON-RPC message. */
  allMessages(): Json[] {
    return frameBodies(this.framing, this.stdout, true).map((body) => {
      const message = JSON.parse(body);
      if (message.jsonrpc !== "2.0") throw new Error(`the output carried a non-JSON-RPC message: ${body}`);
      return message;
    });
  }

  /** Resolves when the server writes more, or after `ms`. */
  private moreBytes(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.wake.delete(done);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}
