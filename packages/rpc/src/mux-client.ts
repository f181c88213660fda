/**
 * The client half of the multiplexer: many concurrent calls over ONE long-lived bidi stream,
 * matched to their replies by id.
 *
 * Semantics (the README repeats them for users):
 * - Deadlines: every call has one (`timeoutMs`, default `defaultTimeoutMs`). When it passes the
 *   call fails with DeadlineExceededError, is removed from the channel, and a best-effort cancel
 *   frame tells the server to abort its handler. The remaining time travels in the frame so
 *   the server's handler sees the same deadline.
 * - AbortSignal: aborting fails the call with CanceledError (cause = the signal's reason),
 *   removes it and sends a cancel frame.
 * - Back-pressure: see admission.ts. Callers beyond `maxInFlight` / `maxInFlightBytes` wait
 *   (deadline and signal apply); beyond `maxWaiting` waiting callers a call fails at once with
 *   ResourceExhaustedError, as does a single call larger than `maxFrameBytes`.
 * - Failure and reconnect: when the stream fails or the server ends it, every call pending on
 *   it fails at once with UnavailableError naming the peer. The channel then waits a backoff
 *   delay (exponential with jitter, reset once a stream is established). A call made during
 *   that delay fails at once with UnavailableError (fail fast, like gRPC without
 *   wait-for-ready), unless `waitForReady` is set, in which case it waits for the reconnect
 *   within its deadline. The first call after the delay opens a new stream. Nothing hangs: every
 *   call ends by its reply, its deadline, its signal, the stream failing or close().
 * - Coalescing: see frame-batcher.ts.
 */
import { Admission, type AdmissionWaiter } from "./admission.js";
import { AsyncQueue } from "./async-queue.js";
import { Backoff, type BackoffOptions, resolveBackoffOptions } from "./backoff.js";
import {
  CanceledError,
  ChannelClosedError,
  DeadlineExceededError,
  messageOf,
  ProtocolError,
  RemoteError,
  ResourceExhaustedError,
  UnavailableError,
} from "./errors.js";
import { FrameBatcher } from "./frame-batcher.js";
import type { MuxCallFrame, MuxReplyFrame, MuxWire } from "./mux-wire.js";

/**
 * Opens one bidi stream: sends `requests`, returns the responses. Aborting `signal` must end
 * the stream. With Connect: `(requests, signal) => client.channel(requests, { signal })`.
 */
export type MuxStreamOpener<TReq, TRes> = (
  requests: AsyncIterable<TReq>,
  signal: AbortSignal,
) => AsyncIterable<TRes>;

export type MuxChannelState = "idle" | "connecting" | "ready" | "backoff" | "closed";

export interface MuxClientOptions {
  /**
   * Names the remote side in errors (UnavailableError.peer), usually its address.
   * @default "peer"
   */
  peer?: string;
  /**
   * Calls in flight (sent or being sent, not yet answered) at once.
   * @default 256
   */
  maxInFlight?: number;
  /**
   * Estimated request bytes in flight at once.
   * @default 16 MiB
   */
  maxInFlightBytes?: number;
  /**
   * Callers that may wait for a slot; beyond this a call fails with ResourceExhaustedError.
   * @default 4096
   */
  maxWaiting?: number;
  /**
   * Largest single call (estimated bytes); larger ones fail with ResourceExhaustedError. Keep
   * it below the server's per-message read limit (createDistKVServer's readMaxBytes).
   * @default 4 MiB
   */
  maxFrameBytes?: number;
  /**
   * A coalesced message is flushed before it grows past this (one larger call goes alone).
   * @default 1 MiB
   */
  maxBatchBytes?: number;
  /**
   * Send all frames of one event-loop turn as one stream message. Off: one message per frame.
   * @default true
   */
  coalesce?: boolean;
  /**
   * Deadline of a call that gives none.
   * @default 5000
   */
  defaultTimeoutMs?: number;
  /**
   * Calls made while the channel waits to reconnect wait for it (within their deadline)
   * instead of failing at once with UnavailableError.
   * @default false
   */
  waitForReady?: boolean;
  /** Reconnect backoff. */
  backoff?: BackoffOptions;
  /** Called on every state change; must not block. */
  onStateChange?: (state: MuxChannelState) => void;
}

export const DEFAULT_MUX_PEER = "peer";
export const DEFAULT_MUX_MAX_IN_FLIGHT = 256;
export const DEFAULT_MUX_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MUX_MAX_WAITING = 4096;
export const DEFAULT_MUX_MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MUX_MAX_BATCH_BYTES = 1024 * 1024;
export const DEFAULT_MUX_TIMEOUT_MS = 5000;
/** Timeouts travel as uint32 milliseconds. */
export const MAX_MUX_TIMEOUT_MS = 0xffff_ffff;

export interface ResolvedMuxClientOptions {
  readonly peer: string;
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  readonly maxWaiting: number;
  readonly maxFrameBytes: number;
  readonly maxBatchBytes: number;
  readonly coalesce: boolean;
  readonly defaultTimeoutMs: number;
  readonly waitForReady: boolean;
  readonly backoff: Readonly<Required<BackoffOptions>>;
  readonly onStateChange: ((state: MuxChannelState) => void) | undefined;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function checkTimeout(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0 || v > MAX_MUX_TIMEOUT_MS) {
    throw new RangeError(`${name} must be in (0, ${MAX_MUX_TIMEOUT_MS}] ms, got ${v}`);
  }
  return v;
}

export function resolveMuxClientOptions(options: MuxClientOptions = {}): ResolvedMuxClientOptions {
  return Object.freeze({
    peer: options.peer ?? DEFAULT_MUX_PEER,
    maxInFlight: positiveInt("maxInFlight", options.maxInFlight ?? DEFAULT_MUX_MAX_IN_FLIGHT),
    maxInFlightBytes: positiveInt(
      "maxInFlightBytes",
      options.maxInFlightBytes ?? DEFAULT_MUX_MAX_IN_FLIGHT_BYTES,
    ),
    maxWaiting: (() => {
      const v = options.maxWaiting ?? DEFAULT_MUX_MAX_WAITING;
      if (!Number.isSafeInteger(v) || v < 0)
        throw new RangeError(`maxWaiting must be >= 0, got ${v}`);
      return v;
    })(),
    maxFrameBytes: positiveInt(
      "maxFrameBytes",
      options.maxFrameBytes ?? DEFAULT_MUX_MAX_FRAME_BYTES,
    ),
    maxBatchBytes: positiveInt(
      "maxBatchBytes",
      options.maxBatchBytes ?? DEFAULT_MUX_MAX_BATCH_BYTES,
    ),
    coalesce: options.coalesce ?? true,
    defaultTimeoutMs: checkTimeout(
      "defaultTimeoutMs",
      options.defaultTimeoutMs ?? DEFAULT_MUX_TIMEOUT_MS,
    ),
    waitForReady: options.waitForReady ?? false,
    backoff: resolveBackoffOptions(options.backoff),
    onStateChange: options.onStateChange,
  });
}

export interface MuxCallOptions {
  /** Deadline of this call; defaults to the channel's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Aborting fails the call with CanceledError and cancels it on the server. */
  signal?: AbortSignal;
  /** Overrides the channel's `waitForReady` for this call. */
  waitForReady?: boolean;
}

export interface MuxClientStats {
  readonly state: MuxChannelState;
  readonly inFlight: number;
  readonly inFlightBytes: number;
  readonly waiting: number;
  /** Streams opened so far (the first connect counts). */
  readonly streamsOpened: number;
  /** Streams that failed or were ended by the server. */
  readonly streamFailures: number;
  /** Stream messages and call frames sent over all streams. */
  readonly messagesSent: number;
  readonly framesSent: number;
}

interface StreamState<TReq, TBody> {
  readonly ac: AbortController;
  readonly outbox: AsyncQueue<TReq>;
  readonly pending: Map<number, PendingCall<TBody, unknown>>;
  readonly batcher: FrameBatcher<MuxCallFrame<TBody>>;
  ready: boolean;
  ended: boolean;
  nextId: number;
  readonly done: Promise<void>;
  markDone: () => void;
}

interface PendingCall<TBody, TResult> {
  readonly body: TBody;
  readonly kind: string;
  readonly size: number;
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly waitForReady: boolean;
  readonly resolve: (r: TResult) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  waiter: AdmissionWaiter | undefined;
  admitted: boolean;
  parked: boolean;
  settled: boolean;
  id: number;
  stream: StreamState<unknown, TBody> | undefined;
}

const CANCEL_FRAME_BYTES = 16;

export class MuxClient<TReq, TRes, TBody, TResult> {
  readonly options: ResolvedMuxClientOptions;
  private readonly open: MuxStreamOpener<TReq, TRes>;
  private readonly wire: MuxWire<TReq, TRes, TBody, TResult>;
  private readonly admission: Admission;
  private readonly backoff: Backoff;
  private stream: StreamState<TReq, TBody> | undefined;
  private currentState: MuxChannelState = "idle";
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError: unknown;
  private readonly parked = new Set<PendingCall<TBody, TResult>>();
  private idleWaiters: (() => void)[] = [];
  private counters = { streamsOpened: 0, streamFailures: 0, messagesSent: 0, framesSent: 0 };

  constructor(
    open: MuxStreamOpener<TReq, TRes>,
    wire: MuxWire<TReq, TRes, TBody, TResult>,
    options: MuxClientOptions = {},
  ) {
    this.open = open;
    this.wire = wire;
    this.options = resolveMuxClientOptions(options);
    this.admission = new Admission(this.options);
    this.backoff = new Backoff(this.options.backoff);
  }

  get state(): MuxChannelState {
    return this.currentState;
  }

  stats(): MuxClientStats {
    return {
      state: this.currentState,
      inFlight: this.admission.inFlight,
      inFlightBytes: this.admission.inFlightBytes,
      waiting: this.admission.waiting,
      ...this.counters,
    };
  }

  /**
   * Sends one call and resolves with its result. Rejects with DeadlineExceededError,
   * CanceledError, UnavailableError, ResourceExhaustedError, ChannelClosedError, RemoteError
   * (the handler failed; carries its code) or ProtocolError.
   */
  request(body: TBody, options?: MuxCallOptions): Promise<TResult> {
    if (this.currentState === "closed") {
      return Promise.reject(new ChannelClosedError(`channel to ${this.options.peer} is closed`));
    }
    const kind = this.wire.kindOf(body);
    const size = this.wire.sizeOf(body);
    if (size > this.options.maxFrameBytes) {
      return Promise.reject(
        new ResourceExhaustedError(
          `${kind} call of ~${size} bytes exceeds maxFrameBytes (${this.options.maxFrameBytes})`,
        ),
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.options.defaultTimeoutMs;
    try {
      checkTimeout("timeoutMs", timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new CanceledError(`${kind} call canceled before it was sent`, { cause: signal.reason }),
      );
    }
    return new Promise<TResult>((resolve, reject) => {
      const call: PendingCall<TBody, TResult> = {
        body,
        kind,
        size,
        timeoutMs,
        deadline: performance.now() + timeoutMs,
        waitForReady: options?.waitForReady ?? this.options.waitForReady,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        timer: undefined,
        waiter: undefined,
        admitted: false,
        parked: false,
        settled: false,
        id: 0,
        stream: undefined,
      };
      call.timer = setTimeout(() => this.onDeadline(call), timeoutMs);
      if (signal !== undefined) {
        call.onAbort = () => this.onAbort(call);
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      if (this.admission.tryAcquire(size)) {
        call.admitted = true;
        this.dispatch(call);
        return;
      }
      call.waiter = {
        bytes: size,
        grant: () => {
          call.admitted = true;
          call.waiter = undefined;
          this.dispatch(call);
        },
      };
      this.waiterOwners.set(call.waiter, call);
      if (!this.admission.enqueue(call.waiter)) {
        call.waiter = undefined;
        this.settle(
          call,
          new ResourceExhaustedError(
            `channel to ${this.options.peer}: ${this.admission.waiting} callers already wait for a slot (maxWaiting)`,
          ),
        );
      }
    });
  }

  /**
   * Stops new calls, fails waiting callers with ChannelClosedError, lets calls already in
   * flight finish (each is bounded by its deadline), then closes the stream.
   */
  async close(): Promise<void> {
    if (this.currentState === "closed" && this.stream === undefined) return;
    this.setState("closed");
    this.clearRetry();
    const err = new ChannelClosedError(`channel to ${this.options.peer} is closed`);
    for (const w of this.admission.drainWaiters()) {
      // Waiters are not admitted; settle() only needs to find them by reference.
      for (const c of this.waitingCalls(w)) this.settle(c, err);
    }
    for (const c of [...this.parked]) this.settle(c, err);
    if (this.admission.inFlight > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    const st = this.stream;
    if (st !== undefined) {
      st.batcher.flush();
      st.outbox.end();
      // Give the server a moment to end its side cleanly; then cut it.
      const timer = setTimeout(() => st.ac.abort(err), 1000);
      await st.done;
      clearTimeout(timer);
    }
  }

  /** Fails everything at once (pending calls get ChannelClosedError) and closes the stream. */
  abort(reason?: unknown): void {
    this.setState("closed");
    this.clearRetry();
    const err = new ChannelClosedError(`channel to ${this.options.peer} was aborted`, {
      cause: reason,
    });
    for (const w of this.admission.drainWaiters()) {
      for (const c of this.waitingCalls(w)) this.settle(c, err);
    }
    for (const c of [...this.parked]) this.settle(c, err);
    const st = this.stream;
    if (st !== undefined) this.endStream(st, err, err);
  }

  // Admission waiters know nothing of calls; this finds the call of a drained waiter.
  private readonly waiterOwners = new WeakMap<AdmissionWaiter, PendingCall<TBody, TResult>>();
  private waitingCalls(w: AdmissionWaiter): PendingCall<TBody, TResult>[] {
    const c = this.waiterOwners.get(w);
    return c === undefined ? [] : [c];
  }

  private setState(state: MuxChannelState): void {
    if (this.currentState === state) return;
    if (this.currentState === "closed") return;
    this.currentState = state;
    this.options.onStateChange?.(state);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  /** An admitted call: send it on the current stream, open one, park it or fail it. */
  private dispatch(call: PendingCall<TBody, TResult>): void {
    if (call.settled) return;
    if (this.currentState === "closed") {
      this.settle(call, new ChannelClosedError(`channel to ${this.options.peer} is closed`));
      return;
    }
    let st = this.stream;
    if (st === undefined) {
      const wait = this.retryAt - performance.now();
      if (wait > 0) {
        if (call.waitForReady) {
          call.parked = true;
          this.parked.add(call);
          return;
        }
        this.settle(
          call,
          new UnavailableError(
            this.options.peer,
            `not connected (reconnecting in ${Math.ceil(wait)} ms; last error: ${messageOf(this.lastError)})`,
            { cause: this.lastError },
          ),
        );
        return;
      }
      st = this.openStream();
    }
    this.send(st, call);
  }

  private send(st: StreamState<TReq, TBody>, call: PendingCall<TBody, TResult>): void {
    let id = st.nextId;
    while (st.pending.has(id)) id = id >= 0xffff_ffff ? 1 : id + 1;
    st.nextId = id >= 0xffff_ffff ? 1 : id + 1;
    call.id = id;
    call.stream = st as StreamState<unknown, TBody>;
    st.pending.set(id, call as PendingCall<TBody, unknown>);
    const left = Math.max(1, Math.ceil(call.deadline - performance.now()));
    st.batcher.add({ id, timeoutMs: left, cancel: false, body: call.body }, call.size);
  }

  private openStream(): StreamState<TReq, TBody> {
    this.clearRetry();
    const ac = new AbortController();
    const outbox = new AsyncQueue<TReq>();
    let markDone = (): void => {};
    const done = new Promise<void>((r) => {
      markDone = r;
    });
    const st: StreamState<TReq, TBody> = {
      ac,
      outbox,
      pending: new Map(),
      batcher: new FrameBatcher<MuxCallFrame<TBody>>(
        (frames) => {
          this.counters.messagesSent++;
          this.counters.framesSent += frames.length;
          outbox.push(this.wire.encodeCalls(frames));
        },
        { coalesce: this.options.coalesce, maxBatchBytes: this.options.maxBatchBytes },
      ),
      ready: false,
      ended: false,
      nextId: 1,
      done,
      markDone,
    };
    this.stream = st;
    this.counters.streamsOpened++;
    this.setState("connecting");
    void this.readLoop(st);
    return st;
  }

  private async readLoop(st: StreamState<TReq, TBody>): Promise<void> {
    let cause: unknown;
    try {
      const responses = this.open(st.outbox, st.ac.signal);
      for await (const message of responses) {
        if (!st.ready) {
          st.ready = true;
          if (this.stream === st) {
            this.backoff.reset();
            this.setState("ready");
          }
        }
        for (const reply of this.wire.decodeReplies(message)) this.onReply(st, reply);
      }
      cause = new Error("the server ended the stream");
    } catch (err) {
      cause = err;
    }
    const err = new UnavailableError(this.options.peer, `stream failed: ${messageOf(cause)}`, {
      cause,
    });
    this.endStream(st, cause, err);
  }

  private endStream(st: StreamState<TReq, TBody>, cause: unknown, err: unknown): void {
    if (st.ended) return;
    st.ended = true;
    st.batcher.discard();
    st.outbox.end();
    st.ac.abort(err);
    const failed = this.stream === st;
    if (failed) this.stream = undefined;
    for (const call of [...st.pending.values()])
      this.settle(call as PendingCall<TBody, TResult>, err);
    st.markDone();
    if (failed && this.currentState !== "closed") {
      this.counters.streamFailures++;
      this.lastError = cause;
      const delay = this.backoff.next();
      this.retryAt = performance.now() + delay;
      this.setState("backoff");
      this.retryTimer = setTimeout(() => this.onRetry(), delay);
      this.retryTimer.unref();
    }
  }

  private onRetry(): void {
    this.retryTimer = undefined;
    if (this.currentState === "closed" || this.stream !== undefined) return;
    this.retryAt = 0;
    if (this.parked.size === 0) {
      this.setState("idle");
      return;
    }
    const st = this.openStream();
    for (const call of [...this.parked]) {
      this.parked.delete(call);
      call.parked = false;
      if (!call.settled) this.send(st, call);
    }
  }

  private onReply(st: StreamState<TReq, TBody>, reply: MuxReplyFrame<TResult>): void {
    const call = st.pending.get(reply.id) as PendingCall<TBody, TResult> | undefined;
    // Unknown ids are replies to calls that already timed out or were canceled.
    if (call === undefined) return;
    if (reply.error !== undefined) {
      this.settle(call, new RemoteError(reply.error.code, reply.error.message, call.kind));
      return;
    }
    const resultKind = this.wire.resultKindOf(reply.result);
    if (resultKind !== call.kind) {
      this.settle(
        call,
        new ProtocolError(
          `${call.kind} call got a reply of kind "${resultKind}" from ${this.options.peer}`,
        ),
      );
      return;
    }
    this.settle(call, undefined, reply.result);
  }

  private onDeadline(call: PendingCall<TBody, TResult>): void {
    call.timer = undefined;
    if (call.settled) return;
    const where = call.admitted
      ? call.parked
        ? " waiting for a reconnect"
        : ""
      : " waiting for a slot";
    this.cancelRemote(call);
    this.settle(
      call,
      new DeadlineExceededError(
        `${call.kind} call to ${this.options.peer} exceeded its ${call.timeoutMs} ms deadline${where}`,
        call.timeoutMs,
      ),
    );
  }

  private onAbort(call: PendingCall<TBody, TResult>): void {
    if (call.settled) return;
    this.cancelRemote(call);
    this.settle(
      call,
      new CanceledError(`${call.kind} call was aborted`, { cause: call.signal?.reason }),
    );
  }

  private cancelRemote(call: PendingCall<TBody, TResult>): void {
    const st = call.stream;
    if (st === undefined || st.ended || st.pending.get(call.id) !== call) return;
    st.batcher.add(
      { id: call.id, timeoutMs: 0, cancel: true, body: undefined },
      CANCEL_FRAME_BYTES,
    );
  }

  /** Ends a call exactly once and gives back whatever it holds. */
  private settle(call: PendingCall<TBody, TResult>, err: unknown, result?: TResult): void {
    if (call.settled) return;
    call.settled = true;
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    if (call.parked) {
      this.parked.delete(call);
      call.parked = false;
    }
    const st = call.stream;
    if (st !== undefined && st.pending.get(call.id) === call) st.pending.delete(call.id);
    if (call.waiter !== undefined) {
      this.admission.remove(call.waiter);
      call.waiter = undefined;
    }
    if (call.admitted) {
      call.admitted = false;
      this.admission.release(call.size);
      if (this.admission.inFlight === 0 && this.idleWaiters.length > 0) {
        const ws = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of ws) w();
      }
    }
    if (err === undefined) call.resolve(result as TResult);
    else call.reject(err);
  }
}
