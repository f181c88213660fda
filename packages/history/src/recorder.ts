import { describe } from "./describe.js";
import { InvalidOperationError, OperationAlreadyCompletedError } from "./errors.js";
import { toJSONL } from "./jsonl.js";
import type { Operation, OperationType, Outcome } from "./operation.js";
import { validateOperation } from "./operation.js";
import type { HistoryRecorderOptions, ResolvedHistoryRecorderOptions } from "./options.js";
import { resolveHistoryRecorderOptions } from "./options.js";

/** What a client is about to do; see {@link Operation} for each field. */
export interface InvokeInput {
  process: string;
  key: string;
  type: OperationType;
  /** Required for `write` and `add`; optional tombstone id for `delete`; absent for `read`. */
  value?: string;
  /** `write`/`delete` with a causal context: the values of the read it came from. */
  context?: readonly string[];
  /** The coordinator, if known before the answer (it can also be given at completion). */
  coordinator?: string;
  /** This request's own deadline in ms, if not the run's default. */
  deadlineMs?: number;
}

/** Completion of an operation that happened. */
export interface OkResult {
  /** Required for a read: the values read, `[]` for not found. Not allowed otherwise. */
  values?: readonly string[];
  /** The coordinator, if the answer names it. */
  coordinator?: string;
}

/** Completion of an operation that failed (`fail`) or whose fate is unknown (`info`). */
export interface FailureResult {
  error?: string;
  coordinator?: string;
}

/** The pending operation `invoke` returned; complete it exactly once. */
export interface OperationHandle {
  readonly id: number;
  readonly invokeMs: number;
  /** Whether `ok`, `fail` or `info` has been called. */
  readonly completed: boolean;
  /** It happened; for reads, with what was read. Returns the recorded operation. */
  ok(result?: OkResult): Operation;
  /** It definitely did not happen. Use `info` when unsure (a timeout is `info`). */
  fail(result?: FailureResult | string): Operation;
  /** It may or may not have happened (timeout, connection lost, crash). */
  info(result?: FailureResult | string): Operation;
}

/**
 * Records a history as clients run. Clients call `invoke` just before sending a request and
 * complete the handle when the answer (or the timeout) comes. `history()` can be taken at any
 * time; operations still pending then appear as `info` with `completeMs: null`, which is what
 * they are: nobody knows whether they took effect.
 *
 * The recorder is not tied to a workload: the same recorder can hold register, set and session
 * operations on different keys; the checkers pick the operations they understand.
 */
export class HistoryRecorder {
  readonly options: ResolvedHistoryRecorderOptions;
  readonly #invoked: InvokeRecord[] = [];
  readonly #completed: (Operation | undefined)[] = [];
  #pending = 0;

  constructor(options?: HistoryRecorderOptions) {
    this.options = resolveHistoryRecorderOptions(options);
  }

  /** Operations invoked so far. */
  get size(): number {
    return this.#invoked.length;
  }

  /** Operations invoked and not yet completed. */
  get pendingCount(): number {
    return this.#pending;
  }

  /**
   * Stamps the invocation time and returns the handle to complete. Throws
   * `InvalidOperationError` for an input no checker could use (a write without a value...).
   */
  invoke(input: InvokeInput): OperationHandle {
    const id = this.#invoked.length;
    const invokeMs = this.options.now();
    const record = checkInput(input, id, invokeMs);
    this.#invoked.push(record);
    this.#completed.push(undefined);
    this.#pending++;
    const complete = (
      outcome: Outcome,
      result: OkResult | FailureResult | string | undefined,
    ): Operation => {
      if (this.#completed[id] !== undefined) throw new OperationAlreadyCompletedError(id);
      const op = finish(record, outcome, result, this.options.now());
      this.#completed[id] = op;
      this.#pending--;
      this.options.onComplete?.(op);
      return op;
    };
    const recorder = this;
    return {
      id,
      invokeMs,
      get completed() {
        return recorder.#completed[id] !== undefined;
      },
      ok: (result) => complete("ok", result),
      fail: (result) => complete("fail", result),
      info: (result) => complete("info", result),
    };
  }

  /**
   * A snapshot of the history in invocation order. Pending operations are included as `info`
   * with `completeMs: null` and `error: "pending"`.
   */
  history(): Operation[] {
    return this.#invoked.map((r, i) => this.#completed[i] ?? pendingOperation(r));
  }

  /** `toJSONL(this.history())`. */
  toJSONL(): string {
    return toJSONL(this.history());
  }
}

interface InvokeRecord {
  readonly id: number;
  readonly invokeMs: number;
  readonly input: InvokeInput;
}

const INPUT_FIELDS = new Set([
  "process",
  "key",
  "type",
  "value",
  "context",
  "coordinator",
  "deadlineMs",
]);

function checkInput(input: InvokeInput, id: number, invokeMs: number): InvokeRecord {
  if (typeof input !== "object" || input === null) {
    throw new InvalidOperationError(`invoke needs an object, got ${describe(input)}`);
  }
  for (const k of Object.keys(input)) {
    if (!INPUT_FIELDS.has(k)) throw new InvalidOperationError(`unknown invoke field ${k}`);
  }
  // Validate the operation as it would be recorded if it never completed (the most permissive
  // outcome), so a bad input fails here, at the call site, and not when the history is checked.
  const copy: InvokeInput = { ...input };
  if (copy.context !== undefined) copy.context = Object.freeze([...copy.context]);
  try {
    validateOperation(toOperation(id, invokeMs, copy, "info", null, {}), "invoke");
  } catch (e) {
    throw new InvalidOperationError((e as Error).message, { cause: e });
  }
  return { id, invokeMs, input: copy };
}

function toOperation(
  id: number,
  invokeMs: number,
  input: InvokeInput,
  outcome: Outcome,
  completeMs: number | null,
  extra: { values?: readonly string[]; coordinator?: string; error?: string },
): Record<string, unknown> {
  const o: Record<string, unknown> = {
    id,
    process: input.process,
    key: input.key,
    type: input.type,
    invokeMs,
    completeMs,
    outcome,
  };
  if (input.value !== undefined) o.value = input.value;
  if (input.context !== undefined) o.context = input.context;
  if (extra.values !== undefined) o.values = extra.values;
  const coordinator = extra.coordinator ?? input.coordinator;
  if (coordinator !== undefined) o.coordinator = coordinator;
  if (input.deadlineMs !== undefined) o.deadlineMs = input.deadlineMs;
  if (extra.error !== undefined) o.error = extra.error;
  return o;
}

function finish(
  record: InvokeRecord,
  outcome: Outcome,
  result: OkResult | FailureResult | string | undefined,
  now: number,
): Operation {
  const r: OkResult & FailureResult =
    typeof result === "string" ? { error: result } : result === undefined ? {} : { ...result };
  if (typeof r !== "object" || r === null) {
    throw new InvalidOperationError(`${outcome}() needs an object or nothing`);
  }
  if (outcome !== "ok" && r.values !== undefined) {
    throw new InvalidOperationError(`${outcome}() takes no values`);
  }
  if (outcome === "ok" && r.error !== undefined) {
    throw new InvalidOperationError("ok() takes no error");
  }
  const extra: { values?: readonly string[]; coordinator?: string; error?: string } = {};
  if (r.values !== undefined) extra.values = [...r.values];
  if (r.coordinator !== undefined) extra.coordinator = r.coordinator;
  if (r.error !== undefined) extra.error = r.error;
  // A clock that steps backwards must not produce an operation that ends before it starts.
  const completeMs = Math.max(now, record.invokeMs);
  try {
    return validateOperation(
      toOperation(record.id, record.invokeMs, record.input, outcome, completeMs, extra),
      `operation ${record.id}`,
    );
  } catch (e) {
    throw new InvalidOperationError((e as Error).message, { cause: e });
  }
}

function pendingOperation(record: InvokeRecord): Operation {
  return validateOperation(
    toOperation(record.id, record.invokeMs, record.input, "info", null, { error: "pending" }),
  );
}
