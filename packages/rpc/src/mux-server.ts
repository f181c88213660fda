/**
 * The server half of the multiplexer. `createMuxStreamHandler()` returns the implementation of
 * a bidi RPC: it reads call frames, runs their handlers concurrently, and writes each reply with
 * the call's id as soon as it is ready (coalesced per event-loop turn, like the client).
 *
 * - Concurrency and memory are bounded per stream by `maxConcurrent` calls and
 *   `maxInFlightBytes` (estimated request bytes of running calls plus reply bytes not yet
 *   written): a call holds its share from the moment it is read until its reply has been taken
 *   by the stream writer. Beyond either limit the server stops reading, so HTTP/2 flow control
 *   pushes back on the client; nothing queues without bound on either side. A single call
 *   larger than `maxInFlightBytes` runs when nothing else does.
 * - Under createDistKVServer each stream message has been charged to the server's in-flight
 *   budgets (request-meter.ts); the stream adopts that charge and gives it back call by call as
 *   the calls end, so the server-wide limits see exactly the calls still running.
 * - Each handler gets an AbortSignal that fires at the call's deadline (the timeout carried in
 *   the frame, capped by `maxTimeoutMs`), on a cancel frame, and when the stream ends. A reply
 *   to an aborted call is not sent: the caller has already given up on it.
 * - An error thrown by a handler becomes an error frame: the status code of the error (ours,
 *   ConnectError, or any error with a numeric `code` in 1..16), else UNKNOWN; its message is
 *   sent as is, so handlers must not put secrets in messages.
 * - A call of a kind with no handler gets UNIMPLEMENTED; a frame with no body, or with a kind
 *   this build's proto does not know (an unknown field, dropped by the decoder), gets
 *   INVALID_ARGUMENT; a second call with the id of one still running gets ALREADY_EXISTS; a
 *   cancel frame for an id not running is ignored (the call may just have finished).
 * - When the client half-closes, running calls finish, their replies are sent, then the
 *   response stream ends. When the server drains (drainSignalKey), new calls get UNAVAILABLE,
 *   running ones finish, and the stream ends; the client reconnects (to this node once it is
 *   back, or the caller goes elsewhere).
 */
import type { HandlerContext } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { Admission } from "./admission.js";
import { AsyncQueue } from "./async-queue.js";
import { drainSignalKey, streamMeterKey } from "./context.js";
import { CanceledError, codeOf, DeadlineExceededError, messageOf } from "./errors.js";
import { FrameBatcher } from "./frame-batcher.js";
import type { MuxCallFrame, MuxReplyFrame, MuxWire } from "./mux-wire.js";
import { estimateMessageBytes, FRAME_OVERHEAD_BYTES } from "./mux-wire.js";
import type { MessageCharge } from "./request-meter.js";

export interface MuxHandlerContext {
  /** The call kind (oneof case), e.g. "replicaWrite". */
  readonly kind: string;
  /** Fires at the deadline, on cancel by the caller, and when the stream ends. */
  readonly signal: AbortSignal;
  /** The call's deadline on this machine's monotonic clock (`performance.now()` ms). */
  readonly deadline: number;
  /** The timeout the call arrived with (after defaults and caps), in ms. */
  readonly timeoutMs: number;
  /** The Connect context of the stream the call arrived on (headers, peer URL, values). */
  readonly stream: HandlerContext;
}

export type MuxHandler<TBody, TResult> = (
  body: TBody,
  ctx: MuxHandlerContext,
) => TResult | Promise<TResult>;

/** Finds the handler of a kind; undefined means UNIMPLEMENTED. */
export type MuxHandlerLookup<TBody, TResult> = (
  kind: string,
) => MuxHandler<TBody, TResult> | undefined;

export interface MuxServerOptions {
  /**
   * Calls per stream that may be running or have an unsent reply at once.
   * @default 256
   */
  maxConcurrent?: number;
  /**
   * Estimated bytes per stream of the requests of running calls plus replies not yet written;
   * beyond this the server stops reading the stream.
   * @default 16 MiB (createPipelineHandler), 64 MiB (registerPeerService)
   */
  maxInFlightBytes?: number;
  /**
   * Send all replies of one event-loop turn as one stream message.
   * @default true
   */
  coalesce?: boolean;
  /**
   * Flush a coalesced reply message before it grows past this (estimated bytes).
   * @default 1 MiB
   */
  maxBatchBytes?: number;
  /**
   * Flush a coalesced reply message once it holds this many replies, so the client works on
   * the first replies of a turn while the server produces the rest (see docs/benchmarks.md).
   * @default 16
   */
  maxBatchFrames?: number;
  /**
   * Largest single reply (estimated bytes). A larger result is replaced by a
   * RESOURCE_EXHAUSTED error frame, so one oversized reply cannot break the stream (and every
   * other call on it) by passing the client's per-message read limit.
   * @default 8 MiB
   */
  maxFrameBytes?: number;
  /**
   * Deadline of a call that arrives without one (timeout 0).
   * @default 30000
   */
  defaultTimeoutMs?: number;
  /**
   * Cap on the deadline a caller may ask for.
   * @default 300000
   */
  maxTimeoutMs?: number;
}

export const DEFAULT_MUX_MAX_CONCURRENT = 256;
export const DEFAULT_MUX_SERVER_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MUX_SERVER_TIMEOUT_MS = 30_000;
export const DEFAULT_MUX_SERVER_MAX_FRAME_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MUX_SERVER_MAX_TIMEOUT_MS = 300_000;
export const DEFAULT_MUX_SERVER_MAX_BATCH_FRAMES = 16;

export type ResolvedMuxServerOptions = Readonly<Required<MuxServerOptions>>;

export function resolveMuxServerOptions(options: MuxServerOptions = {}): ResolvedMuxServerOptions {
  const r = {
    maxConcurrent: options.maxConcurrent ?? DEFAULT_MUX_MAX_CONCURRENT,
    maxInFlightBytes: options.maxInFlightBytes ?? DEFAULT_MUX_SERVER_MAX_IN_FLIGHT_BYTES,
    coalesce: options.coalesce ?? true,
    maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024,
    maxBatchFrames: options.maxBatchFrames ?? DEFAULT_MUX_SERVER_MAX_BATCH_FRAMES,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MUX_SERVER_MAX_FRAME_BYTES,
    defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_MUX_SERVER_TIMEOUT_MS,
    maxTimeoutMs: options.maxTimeoutMs ?? DEFAULT_MUX_SERVER_MAX_TIMEOUT_MS,
  };
  for (const k of [
    "maxConcurrent",
    "maxInFlightBytes",
    "maxBatchBytes",
    "maxBatchFrames",
    "maxFrameBytes",
    "defaultTimeoutMs",
    "maxTimeoutMs",
  ] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] < 1) {
      throw new RangeError(`${k} must be a positive integer, got ${r[k]}`);
    }
  }
  return Object.freeze(r);
}

/**
 * A call in progress, which is also its handler's context. Its AbortController is created only
 * when the handler reads `signal`: most handlers never do, and a controller per call was a
 * visible share of a node's CPU. `abortReason` records an abort that happened before anyone
 * asked. Deadlines are enforced by one timer per stream (see `serveStream`), not one per call.
 */
class Running implements MuxHandlerContext {
  ac: AbortController | undefined = undefined;
  abortReason: unknown = undefined;
  constructor(
    readonly kind: string,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly stream: HandlerContext,
  ) {}

  get signal(): AbortSignal {
    if (this.ac === undefined) {
      this.ac = new AbortController();
      if (this.abortReason !== undefined) this.ac.abort(this.abortReason);
    }
    return this.ac.signal;
  }
}

function abortRunning(r: Running, reason: unknown): void {
  if (r.abortReason !== undefined) return;
  r.abortReason = reason;
  r.ac?.abort(reason);
}

interface OutItem<TRes> {
  readonly message: TRes;
  /** Calls answered in this message, and the reply bytes they hold. */
  readonly calls: number;
  readonly bytes: number;
}

/**
 * The share of an adopted message charge that one call holds; the last call of the message to
 * end gives back whatever is left.
 */
class MessageShare {
  private left: number;
  private readonly each: number;
  /** `live` holds the shares of a stream with calls still running. */
  constructor(
    private readonly charge: MessageCharge,
    calls: number,
    private readonly live: Set<MessageShare>,
  ) {
    this.left = calls;
    this.each = calls > 0 ? Math.floor(charge.held / calls) : 0;
    if (calls > 0) live.add(this);
    else charge.releaseAll();
  }
  /** One call of the message ended. */
  end(): void {
    if (this.left <= 0) return;
    this.left--;
    if (this.left > 0) {
      this.charge.release(this.each);
      return;
    }
    this.charge.releaseAll();
    this.live.delete(this);
  }
  /** The stream ended: everything goes back. */
  endAll(): void {
    this.left = 0;
    this.charge.releaseAll();
    this.live.delete(this);
  }
}

/**
 * The implementation of a bidi RPC that serves the mux protocol. Register it with
 * `router.rpc(Method, handler)` or inside `router.service(Service, { method: handler })`.
 */
export function createMuxStreamHandler<TReq, TRes, TBody, TResult>(
  wire: MuxWire<TReq, TRes, TBody, TResult>,
  lookup: MuxHandlerLookup<TBody, TResult>,
  options: MuxServerOptions = {},
): (requests: AsyncIterable<TReq>, ctx: HandlerContext) => AsyncIterable<TRes> {
  const opts = resolveMuxServerOptions(options);
  return (requests, ctx) => serveStream(wire, lookup, opts, requests, ctx);
}

async function* serveStream<TReq, TRes, TBody, TResult>(
  wire: MuxWire<TReq, TRes, TBody, TResult>,
  lookup: MuxHandlerLookup<TBody, TResult>,
  opts: ResolvedMuxServerOptions,
  requests: AsyncIterable<TReq>,
  ctx: HandlerContext,
): AsyncGenerator<TRes> {
  const out = new AsyncQueue<OutItem<TRes>>();
  // Only the reader loop ever waits for admission.
  const admission = new Admission({
    maxInFlight: opts.maxConcurrent,
    maxInFlightBytes: opts.maxInFlightBytes,
    maxWaiting: 1,
  });
  const running = new Map<number, Running>();
  const shares = new Set<MessageShare>();
  const meter = ctx.values.get(streamMeterKey);
  const batcher = new FrameBatcher<MuxReplyFrame<TResult>>(
    (frames, bytes) =>
      out.push({ message: wire.encodeReplies(frames), calls: frames.length, bytes }),
    {
      coalesce: opts.coalesce,
      maxBatchBytes: opts.maxBatchBytes,
      maxBatchFrames: opts.maxBatchFrames,
    },
  );
  let inputDone = false;
  let draining = false;
  let finished = false;

  // One timer per stream, set for the earliest deadline of the calls running when it was set:
  // it fires, aborts the calls past their deadline and is set again for the next one. Calls
  // normally end long before their deadline, so it rarely fires; a timer per call (created
  // and cleared every call) cost more than the rest of the call's bookkeeping.
  let deadlineTimer: NodeJS.Timeout | undefined;
  let deadlineAt = Number.POSITIVE_INFINITY;
  const armDeadlines = (at: number): void => {
    if (at >= deadlineAt || finished) return;
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    deadlineAt = at;
    deadlineTimer = setTimeout(expireDeadlines, Math.max(1, Math.ceil(at - performance.now())));
  };
  const expireDeadlines = (): void => {
    deadlineTimer = undefined;
    deadlineAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const r of running.values()) {
      if (r.abortReason !== undefined) continue;
      if (r.deadline <= now) {
        abortRunning(
          r,
          new DeadlineExceededError(
            `${r.kind} call exceeded its ${r.timeoutMs} ms deadline`,
            r.timeoutMs,
          ),
        );
      } else if (r.deadline < next) {
        next = r.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) armDeadlines(next);
  };

  const finish = (err?: unknown): void => {
    if (finished) return;
    finished = true;
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    for (const r of running.values()) abortRunning(r, new CanceledError("the stream ended"));
    running.clear();
    for (const share of [...shares]) share.endAll();
    // Wake a reader waiting for room; it sees `finished` and stops.
    for (const w of admission.drainWaiters()) w.grant();
    if (err === undefined) {
      batcher.flush();
      out.end();
    } else {
      batcher.discard();
      out.fail(err);
    }
  };
  const maybeEnd = (): void => {
    if ((inputDone || draining) && running.size === 0) finish();
  };

  /** Sends a reply; the call's request bytes become its reply's until the reply is written. */
  const reply = (frame: MuxReplyFrame<TResult>, bytes: number, requestBytes: number): void => {
    if (finished) return;
    admission.adjust(bytes - requestBytes);
    batcher.add(frame, bytes);
  };
  const replyError = (id: number, code: Code, message: string, requestBytes: number): void => {
    reply({ id, error: { code, message } }, FRAME_OVERHEAD_BYTES + message.length, requestBytes);
  };

  const start = (
    call: MuxCallFrame<TBody>,
    requestBytes: number,
    share: MessageShare | undefined,
  ): void => {
    const body = call.body;
    if (body === undefined) {
      share?.end();
      replyError(
        call.id,
        Code.InvalidArgument,
        "call frame without body (none, or a call kind this server does not know)",
        requestBytes,
      );
      return;
    }
    if (draining) {
      share?.end();
      replyError(call.id, Code.Unavailable, "the server is shutting down", requestBytes);
      return;
    }
    if (running.has(call.id)) {
      share?.end();
      replyError(
        call.id,
        Code.AlreadyExists,
        `call id ${call.id} is already in flight on this stream`,
        requestBytes,
      );
      return;
    }
    const kind = wire.kindOf(body);
    const handler = lookup(kind);
    if (handler === undefined) {
      share?.end();
      replyError(call.id, Code.Unimplemented, `no handler for call kind "${kind}"`, requestBytes);
      return;
    }
    const timeoutMs =
      call.timeoutMs > 0 ? Math.min(call.timeoutMs, opts.maxTimeoutMs) : opts.defaultTimeoutMs;
    const r = new Running(kind, performance.now() + timeoutMs, timeoutMs, ctx);
    running.set(call.id, r);
    armDeadlines(r.deadline);
    const done = (frame: MuxReplyFrame<TResult>, bytes: number): void => {
      if (running.get(call.id) !== r) {
        // The stream ended meanwhile; its accounting went with it.
        return;
      }
      running.delete(call.id);
      share?.end();
      if (r.abortReason !== undefined) {
        // Canceled or past its deadline: the caller no longer waits for this reply.
        admission.release(requestBytes);
      } else {
        reply(frame, bytes, requestBytes);
      }
      maybeEnd();
    };
    let result: TResult | Promise<TResult>;
    try {
      result = handler(body, r);
    } catch (err) {
      const message = messageOf(err);
      done(
        { id: call.id, error: { code: codeOf(err), message } },
        FRAME_OVERHEAD_BYTES + message.length,
      );
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        const bytes =
          FRAME_OVERHEAD_BYTES + estimateMessageBytes((value as { value?: unknown }).value);
        if (bytes > opts.maxFrameBytes) {
          const message = `${kind} reply of ~${bytes} bytes exceeds the server's maxFrameBytes (${opts.maxFrameBytes})`;
          done(
            { id: call.id, error: { code: Code.ResourceExhausted, message } },
            FRAME_OVERHEAD_BYTES + message.length,
          );
        } else {
          done({ id: call.id, result: value }, bytes);
        }
      },
      (err: unknown) => {
        const message = messageOf(err);
        done(
          { id: call.id, error: { code: codeOf(err), message } },
          FRAME_OVERHEAD_BYTES + message.length,
        );
      },
    );
  };

  const onAbort = (): void => finish();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const drainSignal = ctx.values.get(drainSignalKey);
  const onDrain = (): void => {
    draining = true;
    maybeEnd();
  };
  if (drainSignal?.aborted) draining = true;
  else drainSignal?.addEventListener("abort", onDrain, { once: true });

  /** Waits until the stream may hold one more call of `bytes`. */
  const admit = (bytes: number): Promise<void> | undefined => {
    if (admission.tryAcquire(bytes)) return undefined;
    return new Promise<void>((grant) => {
      admission.enqueue({ bytes, grant });
    });
  };

  const reader = (async () => {
    for await (const message of requests) {
      if (finished) return;
      const calls = wire.decodeCalls(message);
      const charge = meter?.adopt();
      const share =
        charge === undefined ? undefined : new MessageShare(charge, calls.length, shares);
      for (const call of calls) {
        if (finished) return;
        if (call.cancel) {
          const r = running.get(call.id);
          if (r !== undefined) abortRunning(r, new CanceledError("canceled by the caller"));
          share?.end();
          continue;
        }
        // Admission per call read: no room, no more reading (back-pressure to the client).
        const bytes = call.body === undefined ? FRAME_OVERHEAD_BYTES : wire.sizeOf(call.body);
        const wait = admit(bytes);
        if (wait !== undefined) await wait;
        if (finished) return;
        start(call, bytes, share);
      }
    }
  })();
  reader.then(
    () => {
      inputDone = true;
      maybeEnd();
    },
    (err: unknown) => {
      inputDone = true;
      // The client going away aborts ctx.signal too; an input error otherwise (e.g. a message
      // over readMaxBytes) ends the stream with that error so the client learns why.
      if (ctx.signal.aborted) finish();
      else finish(err);
    },
  );

  // An empty first message tells the client the stream is established (see MuxClient).
  out.push({ message: wire.encodeReplies([]), calls: 0, bytes: 0 });
  if (draining) maybeEnd();
  try {
    for await (const item of out) {
      yield item.message;
      // The writer came back for more: the message has been written, its calls are done.
      if (item.calls > 0) admission.release(item.bytes, item.calls);
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    drainSignal?.removeEventListener("abort", onDrain);
    finish();
  }
}
