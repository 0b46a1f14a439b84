import type { Message, PartialMessageInfo } from "vscode-jsonrpc/node";
import { Emitter } from "./emitter.js";

/** An error a reader or writer reports: an Error as it is, anything else wrapped in one. */
function asError(error: unknown, who: string): Error {
  if (error instanceof Error) return error;
  const message = (error as { message?: unknown } | undefined)?.message;
  return new Error(`${who} received error. Reason: ${typeof message === "string" ? message : "unknown"}`);
}

/**
 * The events every MessageReader has (vscode-jsonrpc's AbstractMessageReader, without loading vscode-jsonrpc): its
 * subclass fires them.
 */
export abstract class AbstractMessageReader {
  private readonly errors = new Emitter<Error>();
  private readonly closes = new Emitter<void>();
  private readonly partials = new Emitter<PartialMessageInfo>();
  readonly onError = this.errors.event;
  readonly onClose = this.closes.event;
  readonly onPartialMessage = this.partials.event;

  dispose(): void {
    this.errors.dispose();
    this.closes.dispose();
    this.partials.dispose();
  }

  protected fireError(error: unknown): void {
    this.errors.fire(asError(error, "Reader"));
  }

  protected fireClose(): void {
    this.closes.fire();
  }
}

/**
 * The events every MessageWriter has (vscode-jsonrpc's AbstractMessageWriter, without loading vscode-jsonrpc): its
 * subclass fires them.
 */
export abstract class AbstractMessageWriter {
  private readonly errors = new Emitter<[Error, Message | undefined, number | undefined]>();
  private readonly closes = new Emitter<void>();
  readonly onError = this.errors.event;
  readonly onClose = this.closes.event;

  dispose(): void {
    this.errors.dispose();
    this.closes.dispose();
  }

  protected fireError(error: unknown, message?: Message, count?: number): void {
    this.errors.fire([asError(error, "Writer"), message, count]);
  }
}
