import type { Readable } from "node:stream";
import { AbstractMessageReader, type DataCallback, type Disposable, type MessageReader } from "vscode-jsonrpc/node";
import { RpcErrorCodes } from "../../protocol/errors.js";
import { checkEnvelope, type TransportError } from "./envelope.js";
import { ContentLengthDecoder, type FrameDecoder, type FrameSink, type Framing, NdjsonDecoder, detectFraming } from "./framing.js";
import { parseJson } from "./lossless-json.js";

/** Options of a {@link FramedMessageReader}. */
export interface ReaderOptions {
  /** A fixed framing, or "auto": `{` or `[` as the first non-blank byte means NDJSON, anything else Content-Length. */
  framing: Framing | "auto";
  maxMessageBytes: number;
  /** Answer a message that never reaches dispatch. */
  reject(error: TransportError): void;
  /** Told once the framing is known. */
  onFraming(framing: Framing): void;
  /** Told of every request handed to dispatch (for the writer's batching). */
  onRequest(): void;
  /** Every message of an input chunk has been handed over (the answers to it can go out now). */
  onChunkDone(): void;
  log(line: string): void;
}

/**
 * A vscode-jsonrpc MessageReader for both framings. Unparseable JSON and
 * bad frames are answered with -32700, bad envelopes with -32600, and
 * oversized messages are discarded with -32600; none of them reaches the
 * connection or stops the stream.
 */
export class FramedMessageReader extends AbstractMessageReader implements MessageReader {
  private decoder: FrameDecoder | undefined;
  private callback: DataCallback | undefined;
  private readonly sink: FrameSink;

  constructor(
    private readonly input: Readable,
    private readonly options: ReaderOptions,
  ) {
    super();
    this.sink = {
      message: (text) => this.deliver(text),
      malformed: (problem, oversized) => {
        if (this.callback === undefined) return;
        options.reject({
          id: null,
          code: oversized ? RpcErrorCodes.InvalidRequest : RpcErrorCodes.ParseError,
          message: `${oversized ? "Message too large" : "Parse error"}: ${problem}`,
        });
      },
    };
    if (options.framing !== "auto") this.useFraming(options.framing);
  }

  /**
   * Read messages until disposed. Disposing drops every message not yet
   * handed over, the rest of the current chunk included; input errors are
   * still caught afterwards, so a late one cannot crash the process.
   */
  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.push(chunk);
    const onEnd = () => this.fireClose();
    this.input.on("data", onData);
    this.input.on("end", onEnd);
    this.input.on("error", (error: Error) => this.fireError(error));
    return {
      dispose: () => {
        this.input.off("data", onData);
        this.input.off("end", onEnd);
        this.callback = undefined;
      },
    };
  }

  private push(chunk: Buffer): void {
    if (this.decoder === undefined) {
      const framing = detectFraming(chunk);
      if (framing === undefined) return;
      this.useFraming(framing);
    }
    (this.decoder as FrameDecoder).push(chunk);
    this.options.onChunkDone();
  }

  private useFraming(framing: Framing): void {
    const max = this.options.maxMessageBytes;
    this.decoder = framing === "ndjson" ? new NdjsonDecoder(max, this.sink) : new ContentLengthDecoder(max, this.sink);
    this.options.onFraming(framing);
  }

  private deliver(text: string): void {
    if (this.callback === undefined) return;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (error) {
      this.options.reject({ id: null, code: RpcErrorCodes.ParseError, message: `Parse error: ${(error as Error).message}` });
      return;
    }
    const checked = checkEnvelope(value);
    if ("error" in checked) this.options.reject(checked.error);
    else if ("ignore" in checked) this.options.log(`ignored ${checked.ignore}`);
    else {
      if ("id" in checked.ok) this.options.onRequest();
      this.callback(checked.ok);
    }
  }
}
