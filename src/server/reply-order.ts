import type { CancellationToken, Disposable } from "vscode-jsonrpc/node";
import type { TransportError } from "./rpc-errors.js";
import type { TransportReader } from "./reader.js";

/**
 * Keeps one connection's replies in request order when its store answers
 * later (PostgreSQL state). The connection writes each reply when it is
 * made; with such a store a request that asks the store is answered a
 * round trip later, while one that does not (a bad request, a
 * transport-level error, current_agent_id) could be answered at once,
 * ahead of it. So each reply is held until every earlier one is out (or
 * its request waits: a waiting lock_acquire holds back nothing, as with
 * any store), and a request that reads what this process knows rather
 * than asking the store ({@link defer}) runs only then, so that it sees
 * what the requests before it did. Requests that ask the store are sent
 * at once: the store answers them in call order. Not used with a store
 * that answers at once (nothing there is ever held).
 */
export class ReplyOrder {
  /** Settles once every request so far is answered or waiting; undefined when none is outstanding. */
  private last: Promise<void> | undefined;
  /** Of each request whose reply is outstanding (by its token): mark it as no longer holding anything back. */
  private readonly marks = new Map<CancellationToken, () => void>();
  /** A request that started waiting while it was dispatched, before its reply was held (a store answering at once). */
  private waitedEarly: CancellationToken | undefined;

  /** `settled`: a request was answered or started waiting (the deadline timer re-arms). */
  constructor(private readonly settled: () => void) {}

  /** Run a request and return its answer, held until every earlier reply is out. */
  request(token: CancellationToken, dispatch: () => unknown): unknown {
    const before = this.last;
    let result: unknown;
    try {
      result = dispatch();
    } catch (error) {
      if (before === undefined) throw error;
      const failed = () => Promise.reject(error);
      return this.hold(token, before.then(failed));
    }
    if (before === undefined) return result instanceof Promise ? this.hold(token, result) : result;
    // Handled now, so that a rejection while earlier replies are still held is not reported as unhandled.
    if (result instanceof Promise) result.catch(() => {});
    const answer = () => result;
    return this.hold(token, before.then(answer));
  }

  /** Run `read` once every earlier reply is out (at once when none is outstanding). */
  defer<T>(read: () => T): T | Promise<T> {
    return this.last === undefined ? read() : this.last.then(read);
  }

  /** The request of `token` waits now (a lock_acquire): it holds back nothing after it. */
  waiting(token: CancellationToken): void {
    const mark = this.marks.get(token);
    if (mark === undefined) this.waitedEarly = token;
    else mark();
  }

  /** `reader`, its rejected messages (-32700, -32600) answered in order with the replies. */
  reader(reader: TransportReader): TransportReader {
    const onRejected = (listener: (error: TransportError) => void): Disposable =>
      reader.onRejected((error) => {
        const before = this.last;
        if (before === undefined) listener(error);
        else this.chain(before.then(() => listener(error)));
      });
    return {
      listen: (callback) => reader.listen(callback),
      onError: reader.onError,
      onClose: reader.onClose,
      onPartialMessage: reader.onPartialMessage,
      onRejected,
      dispose: () => reader.dispose(),
    };
  }

  /** Hold `answer` as the newest reply: the next ones wait until it is out or its request waits. */
  private hold(token: CancellationToken, answer: Promise<unknown>): Promise<unknown> {
    const before = this.last;
    let mark = () => {};
    const own = new Promise<void>((resolve) => (mark = resolve));
    if (this.waitedEarly === token) {
      this.waitedEarly = undefined;
      mark();
    } else this.marks.set(token, mark);
    answer.then(mark, mark);
    this.chain(before === undefined ? own : before.then(() => own)).then(() => {
      this.marks.delete(token);
      this.settled();
    });
    return answer;
  }

  /** `done` is the newest point the next reply waits for; forgotten once it is passed and nothing newer came. */
  private chain(done: Promise<void>): Promise<void> {
    this.last = done;
    return done.then(() => {
      if (this.last === done) this.last = undefined;
    });
  }
}
