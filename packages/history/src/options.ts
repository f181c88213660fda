import { describe } from "./describe.js";
import { InvalidHistoryOptionsError } from "./errors.js";
import type { Operation } from "./operation.js";

/** Milliseconds on a monotonic clock. The default everywhere is `performance.now()`. */
export type Clock = () => number;

const defaultClock: Clock = () => performance.now();

function checkObject(options: unknown, what: string, allowed: readonly string[]): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidHistoryOptionsError(`${what} must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidHistoryOptionsError(`unknown ${what} field ${JSON.stringify(key)}`);
    }
  }
}

function integer(value: unknown, name: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidHistoryOptionsError(
      `${name} must be an integer >= ${min}, got ${describe(value)}`,
    );
  }
  return value;
}

function number(value: unknown, name: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new InvalidHistoryOptionsError(
      `${name} must be a number >= ${min}, got ${describe(value)}`,
    );
  }
  return value;
}

function boolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new InvalidHistoryOptionsError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

function fn<T>(value: unknown, name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== "function") {
    throw new InvalidHistoryOptionsError(`${name} must be a function, got ${describe(value)}`);
  }
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// Recorder

export interface HistoryRecorderOptions {
  /**
   * The clock every invocation and completion is stamped with, in ms. All clients of a run must
   * share it (one recorder per run, or clocks that agree), since checkers compare times across
   * clients.
   * @default () => performance.now()
   */
  now?: Clock;
  /**
   * Called with each operation when it completes (`ok`, `fail` or `info`), e.g. to append
   * `operationToJSON(op)` to a file so a run that dies still leaves its history. Runs
   * synchronously inside `ok()`/`fail()`/`info()`: it must not block. A throw propagates to the
   * caller of `ok()`/`fail()`/`info()` (the operation is recorded first).
   * @default none
   */
  onComplete?: (op: Operation) => void;
}

export interface ResolvedHistoryRecorderOptions {
  readonly now: Clock;
  readonly onComplete: ((op: Operation) => void) | undefined;
}

export function resolveHistoryRecorderOptions(
  options: HistoryRecorderOptions = {},
): ResolvedHistoryRecorderOptions {
  checkObject(options, "recorder options", ["now", "onComplete"]);
  return Object.freeze({
    now: fn(options.now, "now", defaultClock),
    onComplete: fn<((op: Operation) => void) | undefined>(
      options.onComplete,
      "onComplete",
      undefined,
    ),
  });
}

// ---------------------------------------------------------------------------------------------
// Linearizability

/**
 * What a read that returned several siblings means to the register checker:
 * - `"violation"`: a linearizable register holds one value at every instant, so no
 *   linearization can produce two at once: the read is reported (`sibling-read`) and the key is
 *   not linearizable. The search still runs on the rest of the key's operations, without those
 *   reads, so other anomalies (stale reads) are found too.
 * - `"pick-one"`: the read is accepted if the register's value at its linearization point is one
 *   of the siblings, as if the client resolved the conflict by picking that one. This asks
 *   "would some resolution of every conflict be linearizable?", a weaker property that separates
 *   stale reads from conflicts that last-writer-wins or a merge would hide.
 */
export type SiblingReadPolicy = "violation" | "pick-one";

/** Default maximum search states per key before a key's verdict is `unknown`. */
export const DEFAULT_MAX_STATES_PER_KEY = 1_000_000;
/** Default wall-clock budget of one `checkLinearizability` call, all keys together. */
export const DEFAULT_LINEARIZABILITY_TIME_LIMIT_MS = 60_000;
/** Default size of the windows searched when a key's full search runs out of budget. */
export const DEFAULT_WINDOW_OPS = 512;
/** Default number of extra searches spent shrinking one key's violation to a small witness. */
export const DEFAULT_MAX_SHRINK_CHECKS = 100;

export interface LinearizabilityOptions {
  /**
   * Search budget per key: how many distinct (linearized set, register value) states the search
   * may memoise. Past it the key's verdict is `unknown` (reason `max-states`). Memory is about
   * 100 bytes per state plus 4 bytes per pending-forever (`info`) operation.
   * @default 1_000_000
   */
  maxStatesPerKey?: number;
  /**
   * Wall-clock budget for the whole call. Keys not finished in time are `unknown` (reason
   * `time-limit`); keys not started are `unknown` too. Shrinking only uses time left over.
   * @default 60_000
   */
  timeLimitMs?: number;
  /**
   * When a key's full search runs out of budget (`max-states`), search overlapping windows of
   * 32, 128, ... up to this many operations (by invocation, stride half a window, each with the
   * writes its reads observed). A window that is not linearizable proves the key is not; windows can never prove
   * that it is, so the key stays `unknown` if none fails. The windows share one more
   * `maxStatesPerKey` (one window at most an eighth of it). 0 turns this off.
   * @default 512
   */
  windowOps?: number;
  /** See {@link SiblingReadPolicy}. @default "violation" */
  siblingReads?: SiblingReadPolicy;
  /**
   * Shrink each non-linearizable key to a small sub-history that is non-linearizable on its own
   * (the `witness`). Costs up to `maxShrinkChecks` extra searches per violating key.
   * @default true
   */
  shrink?: boolean;
  /** @default 100 */
  maxShrinkChecks?: number;
  /** Clock for `timeLimitMs`. @default () => performance.now() */
  now?: Clock;
}

export interface ResolvedLinearizabilityOptions {
  readonly maxStatesPerKey: number;
  readonly timeLimitMs: number;
  readonly windowOps: number;
  readonly siblingReads: SiblingReadPolicy;
  readonly shrink: boolean;
  readonly maxShrinkChecks: number;
  readonly now: Clock;
}

export function resolveLinearizabilityOptions(
  options: LinearizabilityOptions = {},
): ResolvedLinearizabilityOptions {
  checkObject(options, "linearizability options", [
    "maxStatesPerKey",
    "timeLimitMs",
    "windowOps",
    "siblingReads",
    "shrink",
    "maxShrinkChecks",
    "now",
  ]);
  const siblingReads = options.siblingReads ?? "violation";
  if (siblingReads !== "violation" && siblingReads !== "pick-one") {
    throw new InvalidHistoryOptionsError(
      `siblingReads must be "violation" or "pick-one", got ${describe(siblingReads)}`,
    );
  }
  return Object.freeze({
    maxStatesPerKey: integer(
      options.maxStatesPerKey,
      "maxStatesPerKey",
      1,
      DEFAULT_MAX_STATES_PER_KEY,
    ),
    timeLimitMs: number(
      options.timeLimitMs,
      "timeLimitMs",
      0,
      DEFAULT_LINEARIZABILITY_TIME_LIMIT_MS,
    ),
    windowOps: integer(options.windowOps, "windowOps", 0, DEFAULT_WINDOW_OPS),
    siblingReads,
    shrink: boolean(options.shrink, "shrink", true),
    maxShrinkChecks: integer(
      options.maxShrinkChecks,
      "maxShrinkChecks",
      0,
      DEFAULT_MAX_SHRINK_CHECKS,
    ),
    now: fn(options.now, "now", defaultClock),
  });
}

// ---------------------------------------------------------------------------------------------
// Sessions

/** Default cap on anomalies listed (all are counted). */
export const DEFAULT_MAX_REPORTED = 100;

export interface SessionOptions {
  /**
   * A session is a process's operations through one coordinator (`coordinator` field): DistKV
   * only promises anything per coordinator, since a blind write takes the coordinator's own
   * replica as its context. `false` makes a session the process's operations through any node.
   * Operations without a `coordinator` form one session per process either way.
   * @default true
   */
  perCoordinator?: boolean;
  /** Check read-your-writes. @default true */
  readYourWrites?: boolean;
  /** Check monotonic reads. @default true */
  monotonicReads?: boolean;
  /** At most this many anomalies are listed; all are counted. @default 100 */
  maxReported?: number;
}

export interface ResolvedSessionOptions {
  readonly perCoordinator: boolean;
  readonly readYourWrites: boolean;
  readonly monotonicReads: boolean;
  readonly maxReported: number;
}

export function resolveSessionOptions(options: SessionOptions = {}): ResolvedSessionOptions {
  checkObject(options, "session options", [
    "perCoordinator",
    "readYourWrites",
    "monotonicReads",
    "maxReported",
  ]);
  return Object.freeze({
    perCoordinator: boolean(options.perCoordinator, "perCoordinator", true),
    readYourWrites: boolean(options.readYourWrites, "readYourWrites", true),
    monotonicReads: boolean(options.monotonicReads, "monotonicReads", true),
    maxReported: integer(options.maxReported, "maxReported", 0, DEFAULT_MAX_REPORTED),
  });
}

// ---------------------------------------------------------------------------------------------
// Deadlines

/** Default request deadline: the coordinator's default `timeoutMs` in @distkv/quorum. */
export const DEFAULT_DEADLINE_MS = 5_000;
/**
 * Default allowance past a deadline: timers fire late under load, and on a shared 2-core machine
 * a GC pause or a busy event loop adds tens to hundreds of ms.
 */
export const DEFAULT_DEADLINE_SLACK_MS = 500;

export interface DeadlineOptions {
  /** Deadline of an operation without its own `deadlineMs`. @default 5_000 */
  deadlineMs?: number;
  /** How far past its deadline an operation may complete. @default 500 */
  slackMs?: number;
  /** At most this many anomalies are listed; all are counted. @default 100 */
  maxReported?: number;
}

export interface ResolvedDeadlineOptions {
  readonly deadlineMs: number;
  readonly slackMs: number;
  readonly maxReported: number;
}

export function resolveDeadlineOptions(options: DeadlineOptions = {}): ResolvedDeadlineOptions {
  checkObject(options, "deadline options", ["deadlineMs", "slackMs", "maxReported"]);
  const deadlineMs = number(options.deadlineMs, "deadlineMs", 0, DEFAULT_DEADLINE_MS);
  if (deadlineMs <= 0 || !Number.isFinite(deadlineMs)) {
    throw new InvalidHistoryOptionsError(
      `deadlineMs must be a positive finite number, got ${describe(deadlineMs)}`,
    );
  }
  const slackMs = number(options.slackMs, "slackMs", 0, DEFAULT_DEADLINE_SLACK_MS);
  if (!Number.isFinite(slackMs)) {
    throw new InvalidHistoryOptionsError(`slackMs must be finite, got ${describe(slackMs)}`);
  }
  return Object.freeze({
    deadlineMs,
    slackMs,
    maxReported: integer(options.maxReported, "maxReported", 0, DEFAULT_MAX_REPORTED),
  });
}
