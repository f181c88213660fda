import { setMaxListeners } from "node:events";
import type { Clock } from "./clock.js";
import { AbortedError } from "./errors.js";
import type { ReplicaCallOptions } from "./replica-transport.js";

// Abort reasons of every request that ends normally. Shared instances: building an Error (or
// letting abort() build a DOMException) per request showed up in a node's CPU profile.
const ANSWERED = new AbortedError("the request was answered");
const FINISHED = new AbortedError("request finished");
/**
 * The life of one coordinated request: its answer, its deadline and its background work.
 *
 * - The answer settles once (`resolve` / `reject`); later calls are ignored.
 * - The caller's AbortSignal rejects the answer with AbortedError; the replica calls already
 *   sent keep running (a write cannot be unsent, and letting it finish helps convergence).
 * - The deadline rejects an unanswered request (`onDeadline` builds the error) and aborts
 *   `signal`, which every replica call gets: background work (writes past W, late read replies,
 *   read repair) ends there at the latest.
 * - `stop()` (the component stopping) rejects and aborts everything at once.
 *
 * `track()` registers background promises; the scope is finished (timer cleared, listeners
 * removed, `onFinish` called) when the answer is settled and no tracked work remains, or when
 * the deadline passes.
 */
export class RequestScope<T> {
  readonly promise: Promise<T>;
  /** Aborts when the scope finishes (deadline, stop, or done). Passed to every replica call. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // Every replica call of the request listens to it (N calls plus repairs): more than
      // Node's default of 10 is normal here, not a leak.
      setMaxListeners(0, this.controller.signal);
      if (this.finished) this.controller.abort(this.finishReason);
    }
    return this.controller.signal;
  }
  /**
   * Aborts once the answer is settled: for waits that only matter before the answer (the
   * coordinator's key lock).
   */
  get answerSignal(): AbortSignal {
    if (this.answerController === undefined) {
      this.answerController = new AbortController();
      if (this.settledFlag) this.answerController.abort(ANSWERED);
    }
    return this.answerController.signal;
  }
  readonly startMs: number;
  readonly deadlineMs: number;
  // Created on first use: a request served from the local replica alone never needs them, and
  // making and aborting two controllers per request was a tenth of a node's CPU per read.
  private controller: AbortController | undefined;
  private answerController: AbortController | undefined;
  private finishReason: unknown = FINISHED;
  private resolveAnswer!: (value: T) => void;
  private rejectAnswer!: (error: unknown) => void;
  private settledFlag = false;
  private finished = false;
  private tasks = 0;
  private readonly cancelTimer: () => void;
  private readonly detach: () => void;

  constructor(
    private readonly clock: Clock,
    readonly timeoutMs: number,
    userSignal: AbortSignal | undefined,
    private readonly onDeadline: () => Error,
    private readonly onFinish: (scope: RequestScope<T>) => void,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveAnswer = resolve;
      this.rejectAnswer = reject;
    });
    // Rejections are delivered through `promise`; this keeps an unobserved one from being
    // reported as unhandled when the caller already went away.
    this.promise.catch(() => {});
    this.startMs = clock.nowMs();
    this.deadlineMs = this.startMs + timeoutMs;
    this.cancelTimer = clock.schedule(() => this.expire(), timeoutMs);
    const onUserAbort = () =>
      this.reject(new AbortedError("request aborted by the caller", { cause: userSignal?.reason }));
    userSignal?.addEventListener("abort", onUserAbort, { once: true });
    this.detach = () => userSignal?.removeEventListener("abort", onUserAbort);
    if (userSignal?.aborted) onUserAbort();
  }

  /** The component stops: reject the answer if still open and end all work now. */
  stop(reason: unknown): void {
    this.reject(new AbortedError("the coordinator was stopped", { cause: reason }));
    this.finish(reason);
  }

  /** Whether the answer has been given (either way). */
  get settled(): boolean {
    return this.settledFlag;
  }

  /** Whether the scope ended (answer given and work done, deadline passed, or stopped). */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Whether background work should stop (deadline passed or component stopped). */
  get done(): boolean {
    return this.finished;
  }

  resolve(value: T): void {
    if (this.settledFlag) return;
    this.settledFlag = true;
    this.answerController?.abort(ANSWERED);
    this.resolveAnswer(value);
    this.maybeFinish();
  }

  reject(error: unknown): void {
    if (this.settledFlag) return;
    this.settledFlag = true;
    this.answerController?.abort(ANSWERED);
    this.rejectAnswer(error);
    this.maybeFinish();
  }

  /** Keeps the scope open until `work` settles. `work` must not reject (catch inside). */
  track(work: Promise<unknown>): void {
    this.tasks++;
    void work.finally(() => {
      this.tasks--;
      this.maybeFinish();
    });
  }

  /**
   * Options for a replica call made now. `signal` is made on first read: a transport whose
   * calls carry the deadline themselves (the server's peer channel) never reads it, and then
   * the request creates and aborts no AbortController at all.
   */
  callOptions(): ReplicaCallOptions {
    const scope = this;
    return {
      get signal(): AbortSignal {
        return scope.signal;
      },
      deadlineMs: this.deadlineMs,
      timeoutMs: Math.max(0, this.deadlineMs - this.clock.nowMs()),
    };
  }

  private expire(): void {
    if (this.finished) return;
    if (!this.settledFlag) this.reject(this.onDeadline());
    this.finish(new AbortedError(`request deadline of ${this.timeoutMs} ms passed`));
  }

  private maybeFinish(): void {
    if (this.settledFlag && this.tasks === 0) this.finish(undefined);
  }

  private finish(reason: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelTimer();
    this.detach();
    this.finishReason = reason ?? FINISHED;
    // Aborting also on normal completion releases anything a transport may still hold on to.
    this.controller?.abort(this.finishReason);
    this.onFinish(this);
  }
}
