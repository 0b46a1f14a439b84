import type { CancellationToken, Disposable, Message, MessageWriter } from "vscode-jsonrpc/node";
import { Emitter } from "./emitter.js";
import type { TransportReader } from "./reader.js";
import { type RequestId, idValue } from "./request-id.js";
import { type TransportError, toResponseError } from "./rpc-errors.js";

/** A MessageWriter that also writes a reply from its id and result, with no message object (see replyJson). */
export interface ReplyWriter extends MessageWriter {
  writeReply(id: RequestId, result: unknown): void;
}

type RequestHandler = (method: string, params: unknown, token: CancellationToken) => unknown;

/** A token that makes its emitter only when someone listens (most requests never look at theirs). */
class RequestToken implements CancellationToken {
  isCancellationRequested = false;
  private emitter: Emitter<void> | undefined;

  get onCancellationRequested(): CancellationToken["onCancellationRequested"] {
    this.emitter ??= new Emitter<void>();
    return this.emitter.event;
  }

  cancel(): void {
    if (this.isCancellationRequested) return;
    this.isCancellationRequested = true;
    this.emitter?.fire();
  }
}

/**
 * The server side of a JSON-RPC connection over vscode-jsonrpc's reader and
 * writer interfaces, and the one owner of reply order. The reader hands
 * over requests, notifications and the messages it rejected (-32700,
 * -32600) one at a time, in input order; each is answered before the next
 * is taken (a handler runs to completion, the answer is queued on the
 * writer, which never reorders). So every reply goes out in request order
 * and at once, except a request whose handler returns a promise (a waiting
 * lock_acquire): it answers when the promise settles, and holds back
 * nothing after it. Unlike vscode-jsonrpc's own connection, which
 * dispatches one message per event-loop turn, all requests of an input
 * chunk are answered in the same turn and leave in one write.
 * `$/cancelRequest` cancels a waiting request's token. Responses the peer
 * sends are ignored: this server sends no requests.
 */
export class ServerConnection {
  private requestHandler: RequestHandler | undefined;
  private notificationHandler: ((method: string, params: unknown) => void) | undefined;
  private readonly closed = new Emitter<void>();
  /** Waiting requests by id value (see idValue), for `$/cancelRequest`. */
  private readonly pending = new Map<string | number | bigint, RequestToken>();
  private unsettled = 0;
  private reading: Disposable | undefined;

  constructor(
    private readonly reader: TransportReader,
    private readonly writer: ReplyWriter,
    private readonly log: (line: string) => void,
  ) {}

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onNotification(handler: (method: string, params: unknown) => void): void {
    this.notificationHandler = handler;
  }

  onClose(listener: () => void): void {
    this.closed.event(listener);
  }

  sendNotification(method: string, params: unknown): void {
    void this.writer.write({ jsonrpc: "2.0", method, params } as Message);
  }

  /** Requests whose answer is still to come (waiting acquires). */
  get waiting(): number {
    return this.unsettled;
  }

  listen(): void {
    this.reader.onClose(() => this.closed.fire());
    this.reader.onError((error) => this.log(`input error: ${error.message}`));
    this.writer.onError(([error]) => this.log(`output error: ${error.message}`));
    this.reader.onRejected((error) => this.rejected(error));
    this.reading = this.reader.listen((message) =>
      this.receive(message as Message & { id?: RequestId; method?: string; params?: unknown }),
    );
  }

  /** Stop reading: nothing read after this point, the rest of the current input chunk included, is run or answered. */
  stopReading(): void {
    this.reading?.dispose();
  }

  private rejected({ id, error }: TransportError): void {
    void this.writer.write({ jsonrpc: "2.0", id, error } as Message);
  }

  private receive(message: { id?: RequestId; method?: string; params?: unknown }): void {
    if (message.method === undefined) return;
    if (message.id === undefined) {
      if (message.method === "$/cancelRequest")
        this.pending.get((message.params as { id?: string | number | bigint } | undefined)?.id ?? "")?.cancel();
      else this.notificationHandler?.(message.method, message.params);
      return;
    }
    this.request(message.id, message.method, message.params);
  }

  private request(id: RequestId, method: string, params: unknown): void {
    const token = new RequestToken();
    let result: unknown;
    try {
      result = this.requestHandler === undefined ? undefined : this.requestHandler(method, params, token);
    } catch (error) {
      this.fail(id, method, error);
      return;
    }
    if (!(result instanceof Promise)) {
      this.answer(id, result);
      return;
    }
    this.pending.set(idValue(id), token);
    this.unsettled++;
    result.then(
      (value: unknown) => {
        this.settled(id, token);
        this.answer(id, value);
      },
      (error: unknown) => {
        this.settled(id, token);
        this.fail(id, method, error);
      },
    );
  }

  private settled(id: RequestId, token: RequestToken): void {
    this.unsettled--;
    if (this.pending.get(idValue(id)) === token) this.pending.delete(idValue(id));
  }

  /** Queue the reply; `id` goes on as given (a RawId is written as its token). */
  private answer(id: RequestId, result: unknown): void {
    this.writer.writeReply(id, result);
  }

  /**
   * Queue the error reply; anything but a ResponseError (a bug outside dispatch) is answered -32603 and its stack
   * logged.
   */
  private fail(id: RequestId, method: string, error: unknown): void {
    void this.writer.write({ jsonrpc: "2.0", id, error: toResponseError(method, error, this.log).toJson() } as Message);
  }
}
