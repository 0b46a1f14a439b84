import { type CancellationToken, type Disposable, Emitter, type Message, type MessageReader, type MessageWriter, ResponseError } from "vscode-jsonrpc/node";
import { RpcErrorCodes } from "../../protocol/errors.js";

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
 * writer interfaces. Unlike vscode-jsonrpc's own connection, which
 * dispatches one message per event-loop turn, it runs each request as soon
 * as the reader hands it over, so the requests of one input chunk are all
 * answered in the same turn and leave in one write (see
 * BatchingMessageWriter). A handler may return a promise (a waiting
 * lock_acquire); `$/cancelRequest` cancels its token. Responses the peer
 * sends are ignored: this server sends no requests.
 */
export class ServerConnection {
  private requestHandler: RequestHandler | undefined;
  private notificationHandler: ((method: string, params: unknown) => void) | undefined;
  private readonly closed = new Emitter<void>();
  private readonly pending = new Map<string | number, RequestToken>();
  private listening: Disposable | undefined;

  constructor(
    private readonly reader: MessageReader,
    private readonly writer: MessageWriter,
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

  listen(): void {
    this.reader.onClose(() => this.closed.fire());
    this.reader.onError((error) => this.log(`input error: ${error.message}`));
    this.listening = this.reader.listen((message) => this.receive(message as Message & { id?: string | number; method?: string; params?: unknown }));
  }

  /** Take no more messages: whatever the peer sends from now on is dropped, unanswered. */
  stop(): void {
    this.listening?.dispose();
  }

  private receive(message: { id?: string | number; method?: string; params?: unknown }): void {
    if (message.method === undefined) return;
    if (message.id === undefined) {
      if (message.method === "$/cancelRequest") this.pending.get((message.params as { id?: string | number } | undefined)?.id ?? "")?.cancel();
      else this.notificationHandler?.(message.method, message.params);
      return;
    }
    this.request(message.id, message.method, message.params);
  }

  private request(id: string | number, method: string, params: unknown): void {
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
    this.pending.set(id, token);
    result.then(
      (value: unknown) => {
        this.pending.delete(id);
        this.answer(id, value);
      },
      (error: unknown) => {
        this.pending.delete(id);
        this.fail(id, method, error);
      },
    );
  }

  private answer(id: string | number, result: unknown): void {
    void this.writer.write({ jsonrpc: "2.0", id, result: result === undefined ? null : result } as Message);
  }

  private fail(id: string | number, method: string, error: unknown): void {
    const failure =
      error instanceof ResponseError ? error : new ResponseError(RpcErrorCodes.InternalError, `${method}: internal error: ${error instanceof Error ? error.message : String(error)}`);
    void this.writer.write({ jsonrpc: "2.0", id, error: failure.toJson() } as Message);
  }
}
