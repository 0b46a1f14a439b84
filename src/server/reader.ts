import type { Readable } from "node:stream";
import type { DataCallback, Disposable, Event, MessageReader } from "vscode-jsonrpc/node";
import { Emitter } from "./emitter.js";
import { checkEnvelope } from "./envelope.js";
import { FramingDetector } from "../transport/detect-framing.js";
import {
  ContentLengthDecoder,
  type FrameDecoder,
  type FrameSink,
  type Framing,
  NdjsonDecoder,
} from "../transport/framing.js";
import { parseJson } from "../transport/lossless-json.js";
import { type TransportError, messageTooLarge, parseError } from "./rpc-errors.js";
import { AbstractMessageReader } from "./message-streams.js";
import { usualRequest } from "./usual-request.js";
import { isWriteError } from "./writer.js";

/** Options of a {@link FramedMessageReader}. */
export interface ReaderOptions {
  /**
   * A fixed framing, or "auto" (see detectFraming: a first line starting with a Content-Length or Content-Type header
   * means Content-Length, anything else NDJSON).
   */
  framing: Framing | "auto";
  maxMessageBytes: number;
  /** Told once the framing is known. */
  onFraming(framing: Framing): void;
  /** The messages of an input chunk are about to be handed over (then onChunkDone: nothing else runs in between). */
  onChunkStart(): void;
  /** Every message of an input chunk has been handed over (the answers to it can go out now). */
  onChunkDone(): void;
  log(line: string): void;
}

/** A MessageReader that also reports the messages it answers itself, in input order with the messages it hands over. */
export interface TransportReader extends MessageReader {
  /** A message that never reaches the connection: unparseable (-32700), a bad envelope or too large (-32600). */
  readonly onRejected: Event<TransportError>;
}

/**
 * A vscode-jsonrpc MessageReader for both framings. Unparseable JSON and
 * bad frames are rejected with -32700, bad envelopes with -32600, and
 * oversized messages are discarded with -32600; none of them reaches the
 * connection or stops the stream. A byte-order mark before a message is
 * skipped. At the end of the input, a complete last message (an NDJSON
 * line without its newline) is handed over and an incomplete one rejected
 * with -32700. Messages and rejections are reported synchronously, in
 * input order; once the listener is disposed, nothing more is reported,
 * not even the rest of the chunk being read. Errors of the input are
 * reported, but not those of writing to it (a socket is also the output:
 * the writer reports those).
 */
export class FramedMessageReader extends AbstractMessageReader implements TransportReader {
  private decoder: FrameDecoder | undefined;
  /** With auto framing, the bytes that could not decide it yet (part of a BOM or of a header name). */
  private readonly detector = new FramingDetector();
  private callback: DataCallback | undefined;
  private readonly sink: FrameSink;
  private readonly rejected = new Emitter<TransportError>();
  readonly onRejected = this.rejected.event;

  constructor(
    private readonly input: Readable,
    private readonly options: ReaderOptions,
  ) {
    super();
    this.sink = {
      message: (text) => this.deliver(text),
      malformed: (problem, oversized) => this.reject(oversized ? messageTooLarge(problem) : parseError(problem)),
    };
    if (options.framing !== "auto") this.useFraming(options.framing);
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.push(chunk);
    const onEnd = () => this.end();
    const onError = (error: Error) => {
      if (!isWriteError(error)) this.fireError(error);
    };
    this.input.on("data", onData);
    this.input.on("end", onEnd);
    this.input.on("error", onError);
    return {
      dispose: () => {
        this.input.off("data", onData);
        this.input.off("end", onEnd);
        this.input.off("error", onError);
        this.callback = undefined;
      },
    };
  }

  private push(chunk: Buffer): void {
    if (this.decoder === undefined) {
      const decided = this.detector.take(chunk);
      if (decided === undefined) return;
      this.useFraming(decided.framing);
      chunk = decided.rest;
    }
    this.options.onChunkStart();
    (this.decoder as FrameDecoder).push(chunk);
    this.options.onChunkDone();
  }

  /** The input ended: what the decoder still holds is answered, then the reader closes. */
  private end(): void {
    this.options.onChunkStart();
    const leftover = this.decoder === undefined ? this.detector.leftover() : undefined;
    if (leftover !== undefined) {
      this.useFraming("ndjson");
      (this.decoder as FrameDecoder | undefined)?.push(leftover);
    }
    this.decoder?.end();
    this.options.onChunkDone();
    this.fireClose();
  }

  private useFraming(framing: Framing): void {
    const max = this.options.maxMessageBytes;
    this.decoder = framing === "ndjson" ? new NdjsonDecoder(max, this.sink) : new ContentLengthDecoder(max, this.sink);
    this.options.onFraming(framing);
  }

  private reject(error: TransportError): void {
    if (this.callback !== undefined) this.rejected.fire(error);
  }

  private deliver(text: string): void {
    const callback = this.callback;
    if (callback === undefined) return;
    const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const usual = usualRequest(json);
    if (usual !== undefined) {
      callback(usual);
      return;
    }
    let value: unknown;
    try {
      value = parseJson(json);
    } catch (error) {
      this.reject(parseError((error as Error).message));
      return;
    }
    const checked = checkEnvelope(value, json);
    if ("error" in checked) this.reject(checked.error);
    else if ("ignore" in checked) this.options.log(`ignored ${checked.ignore}`);
    else callback(checked.ok);
  }
}
