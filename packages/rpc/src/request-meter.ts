/**
 * Meters a request body on its way from the socket into Connect, so that the server's byte
 * budgets (budget.ts) are charged before memory is used, not after.
 *
 * The server replaces the request's async iterator (which is how connect-node reads a body)
 * with this one. It watches the bytes go by without copying them:
 *
 * - Enveloped bodies (gRPC, gRPC-Web, Connect streaming: a 5-byte header with flags and a
 *   length before each message). Connect allocates a buffer of the declared length as soon as
 *   it has a header, and keeps the chunks until the message is complete, so a message is
 *   charged twice its declared length once its header is seen, before the header's last byte
 *   is passed on. A chunk is passed on only up to the end of the message it completes, so
 *   Connect never holds more than one message this meter has not charged.
 * - Raw bodies (Connect unary): Connect allocates a buffer of the Content-Length before it
 *   reads a byte, so the length is charged before Connect sees the request (`prepare()`); a
 *   body without one is charged (twice, Connect concatenates it) chunk by chunk.
 * - Every message is also walked by a cost scanner (message-cost.ts) as it passes, and its
 *   estimated decoded size is charged when it is complete, before Connect decodes it.
 *
 * Unary requests (one message) that do not fit are refused with RESOURCE_EXHAUSTED, and their
 * charges are held until the response is done. A message's wire bytes always fit an empty
 * budget (readMaxBytes is at most the per-connection budget); its decoded overhead never gets
 * that exemption, so a request that would decode to more than a budget is always refused. Before answering a refusal the meter reads
 * and discards the rest of the body (no more than readMaxBytes, within the body deadline):
 * a gRPC client still uploading when the answer arrives sees its stream cut ("premature
 * close") instead of the status. Streams wait for room before each message
 * (back-pressure: the bytes stay in the socket and in HTTP/2 flow control), holding nothing
 * else of the budget while they wait; their decoded-size charge is forced (a message that has
 * arrived is decoded either way, and refusing it would kill the whole stream), so a budget
 * can be overdrawn by the decoded overhead of one message per stream, after which every stream
 * of it waits. A stream message's charge is held until the handler takes the next message, or,
 * when the handler adopts it (`adopt()`, the mux server does), until the handler releases it.
 *
 * A message declaring more than readMaxBytes is passed through uncharged: Connect refuses it
 * on its header.
 *
 * The scanner also knows whether the decoder will accept a binary message; one it will not
 * (bad tag, truncated field, invalid UTF-8...) is refused with INVALID_ARGUMENT naming the
 * reason, before Connect decodes it (Connect reports decode failures as INTERNAL), and so is
 * a message flagged compressed in a request that declared no compression.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ByteBudget, Charge } from "./budget.js";
import { type CostScanner, createCostScanner, type PayloadFormat } from "./message-cost.js";

export interface RequestMeterInit {
  /** The body as Node delivers it. */
  readonly source: AsyncIterator<Uint8Array>;
  /** Where this request's bytes are counted (its connection's and its class's budgets). */
  readonly charge: Charge;
  readonly readMaxBytes: number;
  /** The method takes a stream of messages (client streaming or bidi). */
  readonly streaming: boolean;
  /** The body is a sequence of 5-byte-header envelopes (anything but Connect unary). */
  readonly enveloped: boolean;
  readonly format: PayloadFormat;
  /** The request message type. */
  readonly input: DescMessage;
  /** Raw bodies: the declared Content-Length. */
  readonly contentLength: number | undefined;
  /**
   * Raw bodies: sent with a Content-Encoding (decompressed size up to readMaxBytes).
   * Enveloped bodies: the request declared an encoding, so envelopes may be compressed.
   */
  readonly compressed: boolean;
  /** Unary requests: the whole body must arrive within this (from when the meter starts). */
  readonly bodyTimeoutMs: number | undefined;
  /** Aborts waits when the request ends. */
  readonly signal: AbortSignal;
  /** Names the traffic class in errors, e.g. "client". */
  readonly trafficClass: string;
  /** Called when the meter ends the request with an error (refusal or body timeout). */
  readonly onRefused: (err: ConnectError) => void;
}

/** Bytes of one complete stream message, held until its handler releases them. */
export interface MessageCharge {
  /** Bytes still held. */
  readonly held: number;
  /** Releases up to `bytes` of this message's charge. */
  release(bytes: number): void;
  releaseAll(): void;
}

class MessageChargeImpl implements MessageCharge {
  private remaining = 0;
  constructor(private readonly charge: Charge) {}
  get held(): number {
    return this.remaining;
  }
  add(bytes: number): void {
    this.remaining += bytes;
  }
  release(bytes: number): void {
    const n = Math.min(bytes, this.remaining);
    if (n <= 0) return;
    this.remaining -= n;
    this.charge.release(n);
  }
  releaseAll(): void {
    this.release(this.remaining);
  }
}

/** A refusal on its way out; the body is drained before the error is thrown. */
class Refusal {
  constructor(readonly error: ConnectError) {}
}

const ENVELOPE_HEADER_BYTES = 5;
const FLAG_COMPRESSED = 0b0000_0001;

export class RequestMeter implements AsyncIterable<Uint8Array> {
  private readonly init: RequestMeterInit;
  private pending: Uint8Array | undefined;
  private readonly header = new Uint8Array(ENVELOPE_HEADER_BYTES);
  private headerFill = 0;
  private bodyLeft = 0;
  /** After a message declaring more than readMaxBytes: Connect fails the request. */
  private passthrough = false;
  private scanner: CostScanner | undefined;
  private current: MessageChargeImpl | undefined;
  /** Complete stream messages not yet adopted, oldest first. */
  private readonly completed: MessageChargeImpl[] = [];
  private rawBytes = 0;
  private rawStarted = false;
  private readonly deadline: number | undefined;
  private refusal: ConnectError | undefined;

  constructor(init: RequestMeterInit) {
    this.init = init;
    this.deadline =
      init.bodyTimeoutMs === undefined ? undefined : performance.now() + init.bodyTimeoutMs;
  }

  /** Refuses the request: the first read fails with `err` (Connect sends it to the client). */
  refuse(err: ConnectError): void {
    this.refusal ??= err;
  }

  /**
   * Runs before the request is handed to Connect. Charges a raw body's Content-Length; if the
   * request is refused (here or by `refuse()`), drains a unary body first, so that nothing the
   * refused request sent is held while Connect answers. Returns a promise only when there is
   * something to wait for; `refused` tells the caller to hide the Content-Length from Connect,
   * which would otherwise allocate it.
   */
  prepare(): { refused: boolean; ready: Promise<void> | undefined } {
    const init = this.init;
    if (
      this.refusal === undefined &&
      !init.enveloped &&
      init.contentLength !== undefined &&
      init.contentLength <= init.readMaxBytes
    ) {
      const bytes = init.contentLength + (init.compressed ? init.readMaxBytes : 0);
      if (!init.charge.tryCharge(bytes)) this.refusal = this.exhausted(bytes);
    }
    if (this.refusal === undefined || init.streaming) return { refused: false, ready: undefined };
    const ready = this.drain().catch((err: unknown) => {
      // The body deadline passed while draining: that is the answer now.
      if (err instanceof ConnectError) this.refusal = err;
    });
    return { refused: true, ready };
  }

  /**
   * Takes over the charge of the oldest complete stream message the handler has not adopted
   * yet: the handler calls this once per message it receives, and releases the charge as it
   * is done with the message. Undefined for unary requests and uncharged messages.
   */
  adopt(): MessageCharge | undefined {
    return this.completed.shift();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.init.source.return?.();
        return { done: true, value: undefined };
      },
    };
  }

  private fail(err: ConnectError): never {
    this.refusal ??= err;
    this.init.onRefused(err);
    throw err;
  }

  /** Refuses the request: unary bodies are drained first (see the module comment). */
  private refuseNow(err: ConnectError): never {
    throw new Refusal(err);
  }

  private async next(): Promise<IteratorResult<Uint8Array>> {
    try {
      return await this.step();
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      if (!this.init.streaming) await this.drain();
      this.fail(e.error);
    }
  }

  /** Reads and drops what is left of a refused unary body, up to readMaxBytes. */
  private async drain(): Promise<void> {
    let dropped = this.pending?.length ?? 0;
    this.pending = undefined;
    while (dropped <= this.init.readMaxBytes) {
      const r = await this.pull(false);
      if (r.done === true) return;
      dropped += r.value.length;
    }
  }

  private async step(): Promise<IteratorResult<Uint8Array>> {
    if (this.refusal !== undefined) this.refuseNow(this.refusal);
    // Connect asks for more bytes only once the handler asked for the next message, so every
    // complete message has been handed over by now.
    if (this.init.streaming) {
      for (const c of this.completed.splice(0)) c.releaseAll();
    }
    if (this.pending === undefined || this.pending.length === 0) {
      const r = await this.pull();
      if (r.done === true) {
        if (!this.init.enveloped) await this.completeRaw();
        return r;
      }
      this.pending = r.value;
    }
    const chunk = this.pending;
    const used = this.init.enveloped ? await this.consumeEnvelopes(chunk) : this.consumeRaw(chunk);
    this.pending = chunk.subarray(used);
    return { done: false, value: used === chunk.length ? chunk : chunk.subarray(0, used) };
  }

  /** The next chunk, within the body deadline; `report`: a timeout ends the request. */
  private async pull(report = true): Promise<IteratorResult<Uint8Array>> {
    const next = this.init.source.next();
    if (this.deadline === undefined) return next;
    const left = this.deadline - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ConnectError(
              `the request body did not arrive within ${this.init.bodyTimeoutMs} ms`,
              Code.DeadlineExceeded,
            ),
          ),
        Math.max(0, left),
      );
    });
    try {
      return await Promise.race([next, timeout]);
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.DeadlineExceeded) {
        next.catch(() => {});
        if (report) this.fail(err);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Returns how many bytes of `chunk` to pass on: up to the end of one message at most. */
  private async consumeEnvelopes(chunk: Uint8Array): Promise<number> {
    let i = 0;
    while (i < chunk.length) {
      if (this.passthrough) return chunk.length;
      if (this.headerFill < ENVELOPE_HEADER_BYTES) {
        const k = Math.min(ENVELOPE_HEADER_BYTES - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + k), this.headerFill);
        this.headerFill += k;
        i += k;
        if (this.headerFill < ENVELOPE_HEADER_BYTES) return i;
        const flags = this.header[0]!;
        const length =
          this.header[1]! * 2 ** 24 +
          this.header[2]! * 2 ** 16 +
          this.header[3]! * 2 ** 8 +
          this.header[4]!;
        if (length > this.init.readMaxBytes) {
          this.passthrough = true;
          return chunk.length;
        }
        await this.chargeHeader(flags, length);
        this.bodyLeft = length;
        if (length === 0) {
          this.completeEnvelope();
          return i;
        }
        continue;
      }
      const k = Math.min(this.bodyLeft, chunk.length - i);
      this.scanner?.feed(chunk.subarray(i, i + k));
      i += k;
      this.bodyLeft -= k;
      if (this.bodyLeft === 0) {
        this.completeEnvelope();
        return i;
      }
    }
    return i;
  }

  private async chargeHeader(flags: number, length: number): Promise<void> {
    const compressed = (flags & FLAG_COMPRESSED) !== 0;
    if (compressed && !this.init.compressed) {
      this.refuseNow(
        new ConnectError(
          "a message is flagged compressed, but the request declared no compression",
          Code.InvalidArgument,
        ),
      );
    }
    // The declared buffer plus the chunks Connect keeps until it is complete; a compressed
    // message may inflate to readMaxBytes (its decoded size cannot be scanned).
    const bytes = 2 * length + (compressed ? this.init.readMaxBytes : 0);
    const c = new MessageChargeImpl(this.init.charge);
    if (this.init.streaming) {
      await this.init.charge.waitCharge(bytes, this.init.signal);
    } else if (!this.init.charge.tryCharge(bytes)) {
      this.refuseNow(this.exhausted(bytes));
    }
    c.add(bytes);
    this.current = c;
    // Connect decodes every uncompressed message whatever its other flag bits say.
    this.scanner = compressed ? undefined : createCostScanner(this.init.input, this.init.format);
  }

  private completeEnvelope(): void {
    const c = this.current!;
    const overhead = this.scanner?.overheadBytes ?? 0;
    this.checkDecodable(this.scanner);
    this.headerFill = 0;
    this.scanner = undefined;
    this.current = undefined;
    if (this.init.streaming) {
      this.init.charge.forceCharge(overhead);
      c.add(overhead);
      this.completed.push(c);
    } else if (this.init.charge.tryCharge(overhead)) {
      c.add(overhead);
    } else {
      this.refuseNow(this.exhausted(overhead));
    }
  }

  private consumeRaw(chunk: Uint8Array): number {
    const init = this.init;
    if (!this.rawStarted) {
      // A Content-Length was charged by prepare().
      this.rawStarted = true;
      if (init.contentLength === undefined && init.compressed) {
        if (!init.charge.tryCharge(init.readMaxBytes)) {
          this.refuseNow(this.exhausted(init.readMaxBytes));
        }
      }
      if (!init.compressed) this.scanner = createCostScanner(init.input, init.format);
    }
    this.rawBytes += chunk.length;
    if (init.contentLength === undefined && this.rawBytes <= init.readMaxBytes) {
      // Connect keeps the chunks, then concatenates them.
      if (!init.charge.tryCharge(2 * chunk.length, true)) {
        this.refuseNow(this.exhausted(2 * chunk.length));
      }
    }
    this.scanner?.feed(chunk);
    return chunk.length;
  }

  private async completeRaw(): Promise<void> {
    const overhead = this.scanner?.overheadBytes ?? 0;
    this.checkDecodable(this.scanner);
    this.scanner = undefined;
    if (!this.init.charge.tryCharge(overhead)) this.refuseNow(this.exhausted(overhead));
  }

  /** Refuses a message the decoder would reject, with the reason. */
  private checkDecodable(scanner: CostScanner | undefined): void {
    const problem = scanner?.finish();
    if (problem === undefined) return;
    this.refuseNow(
      new ConnectError(
        `the request is not a valid ${this.init.input.typeName}: ${problem}`,
        Code.InvalidArgument,
      ),
    );
  }

  private exhausted(bytes: number): ConnectError {
    const budgets = this.init.charge.budgets;
    const full: ByteBudget | undefined =
      budgets.find((b) => !b.fits(bytes)) ?? budgets[budgets.length - 1];
    const state =
      full === undefined ? "" : `${full.name} (${full.used} of ${full.limit} bytes in use) `;
    return new ConnectError(
      `in-flight limit reached: ${state}has no room for the ${bytes} more bytes this ${this.init.trafficClass} request needs; retry later`,
      Code.ResourceExhausted,
    );
  }
}
