import type { Disposable, Event } from "vscode-jsonrpc/node";

/**
 * An event source on vscode-jsonrpc's Event interface, without loading
 * vscode-jsonrpc (the server starts faster without it). Listeners run in
 * the order they were added; one that throws is logged to stderr and the
 * others still run, as with vscode-jsonrpc's Emitter.
 */
export class Emitter<T> {
  private listeners: { listener: (value: T) => unknown; thisArg: unknown }[] = [];
  private subscribe: Event<T> | undefined;

  /** Add a listener; dispose what it returns to remove it. */
  get event(): Event<T> {
    this.subscribe ??= (listener, thisArg?: unknown, disposables?: Disposable[]) => {
      const entry = { listener, thisArg };
      this.listeners.push(entry);
      const disposable = {
        dispose: () => {
          this.listeners = this.listeners.filter((other) => other !== entry);
        },
      };
      disposables?.push(disposable);
      return disposable;
    };
    return this.subscribe;
  }

  /** Call every listener with `value`. */
  fire(value: T): void {
    for (const { listener, thisArg } of this.listeners) {
      try {
        listener.call(thisArg, value);
      } catch (error) {
        console.error(error);
      }
    }
  }

  /** Remove every listener. */
  dispose(): void {
    this.listeners = [];
  }
}
