import { describe } from "./describe.js";
import { InvalidHistoryError } from "./errors.js";

/**
 * What a client asked for. `add` is one element added to a set-valued key (the client reads the
 * siblings, merges them, adds the element and writes back with the context); it is recorded as one
 * operation because the checkers judge the element, not the read-modify-write steps.
 */
export type OperationType = "read" | "write" | "add" | "delete";

/**
 * How it ended, in Jepsen's terms:
 * - `ok`: it happened, and `values` (for reads) is what was observed;
 * - `fail`: it definitely did not happen (e.g. INVALID_ARGUMENT, or refused before anything was
 *   sent). A client must only say `fail` when it is sure; a checker treats a failed write that
 *   shows up later as an anomaly;
 * - `info`: unknown (timeout, connection reset, crash). It may have happened, at any time after
 *   its invocation, even after the client gave up.
 */
export type Outcome = "ok" | "fail" | "info";

/** One operation of a history: its invocation and its completion in one record. */
export interface Operation {
  /** Unique within the history. The recorder numbers operations 0, 1, ... in invocation order. */
  readonly id: number;
  /**
   * The client (Jepsen's process) that issued it. A client issues its operations one after the
   * other; the session checker treats a process, through one coordinator, as a session.
   */
  readonly process: string;
  readonly key: string;
  readonly type: OperationType;
  /**
   * `write`: the value written (unique per key for the session checker; the linearizability
   * checker does not need uniqueness but explains better with it). `add`: the element added.
   * `delete`: optional, an id for the tombstone so that contexts can name it. Absent for reads.
   */
  readonly value?: string;
  /**
   * `write`/`delete` only: the causal context the client passed, as the values of the read that
   * returned that context (its siblings; `[]` if the read found nothing). Absent means no context
   * was passed (a blind write: the coordinator used its own replica's versions). The session
   * checker uses it to know which versions a write supersedes.
   */
  readonly context?: readonly string[];
  /** When the client sent it, in ms on a clock shared by every client of the run. */
  readonly invokeMs: number;
  /**
   * When the client saw the answer (or gave up, for `info`). `null`: it never completed before the
   * history was taken (only with outcome `info`).
   */
  readonly completeMs: number | null;
  readonly outcome: Outcome;
  /**
   * `read` with outcome `ok` only, and then required: the values read. Several values are
   * siblings; `[]` means not found (or only tombstones). For a key of the set workload, the
   * elements of the merged set (the union over the siblings).
   */
  readonly values?: readonly string[];
  /** The node that coordinated it, if the client knows. */
  readonly coordinator?: string;
  /** The deadline the client gave this request, in ms, if it differs from the run's default. */
  readonly deadlineMs?: number;
  /** For `fail`/`info`: why, for humans (error name, status code). */
  readonly error?: string;
}

/** A history: operations in any order (checkers sort what they need). */
export type History = readonly Operation[];

const TYPES: ReadonlySet<string> = new Set(["read", "write", "add", "delete"]);
const OUTCOMES: ReadonlySet<string> = new Set(["ok", "fail", "info"]);
const FIELDS: ReadonlySet<string> = new Set([
  "id",
  "process",
  "key",
  "type",
  "value",
  "context",
  "invokeMs",
  "completeMs",
  "outcome",
  "values",
  "coordinator",
  "deadlineMs",
  "error",
]);

function fail(path: string, reason: string): never {
  throw new InvalidHistoryError(path, reason);
}

function stringArray(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) fail(path, `expected an array of strings, got ${describe(value)}`);
  const out: string[] = [];
  value.forEach((v, i) => {
    if (typeof v !== "string") fail(`${path}[${i}]`, `expected a string, got ${describe(v)}`);
    out.push(v);
  });
  return out;
}

/**
 * Checks one operation and returns a frozen copy holding only the known fields. `path` prefixes
 * field names in errors (e.g. `[3]` or `line 4`). Unknown fields are rejected: a misspelt field
 * in a saved history must not silently change what a checker sees.
 */
export function validateOperation(input: unknown, path = "operation"): Operation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    fail(path, `expected an object, got ${describe(input)}`);
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!FIELDS.has(k)) fail(`${path}.${k}`, "unknown field");
  }
  const { id, process, key, type, invokeMs, completeMs, outcome } = o;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    fail(`${path}.id`, `expected a non-negative integer, got ${describe(id)}`);
  }
  if (typeof process !== "string" || process.length === 0) {
    fail(`${path}.process`, `expected a non-empty string, got ${describe(process)}`);
  }
  if (typeof key !== "string") fail(`${path}.key`, `expected a string, got ${describe(key)}`);
  if (typeof type !== "string" || !TYPES.has(type)) {
    fail(`${path}.type`, `expected read, write, add or delete, got ${describe(type)}`);
  }
  if (typeof outcome !== "string" || !OUTCOMES.has(outcome)) {
    fail(`${path}.outcome`, `expected ok, fail or info, got ${describe(outcome)}`);
  }
  if (typeof invokeMs !== "number" || !Number.isFinite(invokeMs)) {
    fail(`${path}.invokeMs`, `expected a finite number, got ${describe(invokeMs)}`);
  }
  if (completeMs === null) {
    if (outcome !== "info") fail(`${path}.completeMs`, `null is only allowed with outcome info`);
  } else if (typeof completeMs !== "number" || !Number.isFinite(completeMs)) {
    fail(`${path}.completeMs`, `expected a finite number or null, got ${describe(completeMs)}`);
  } else if (completeMs < invokeMs) {
    fail(`${path}.completeMs`, `completion ${completeMs} is before invocation ${invokeMs}`);
  }
  const out: {
    -readonly [K in keyof Operation]: Operation[K];
  } = {
    id,
    process,
    key,
    type: type as OperationType,
    invokeMs,
    completeMs: completeMs as number | null,
    outcome: outcome as Outcome,
  };
  if (o.value !== undefined) {
    if (typeof o.value !== "string") {
      fail(`${path}.value`, `expected a string, got ${describe(o.value)}`);
    }
    if (type === "read") fail(`${path}.value`, "a read has no value (its result is `values`)");
    out.value = o.value;
  } else if (type === "write" || type === "add") {
    fail(`${path}.value`, `a ${type} needs a value`);
  }
  if (o.context !== undefined) {
    if (type !== "write" && type !== "delete") {
      fail(`${path}.context`, "only a write or a delete carries a context");
    }
    out.context = Object.freeze(stringArray(o.context, `${path}.context`));
  }
  if (o.values !== undefined) {
    if (type !== "read" || outcome !== "ok") {
      fail(`${path}.values`, "only a read with outcome ok has values");
    }
    out.values = Object.freeze(stringArray(o.values, `${path}.values`));
  } else if (type === "read" && outcome === "ok") {
    fail(`${path}.values`, "a read with outcome ok needs values ([] for not found)");
  }
  if (o.coordinator !== undefined) {
    if (typeof o.coordinator !== "string") {
      fail(`${path}.coordinator`, `expected a string, got ${describe(o.coordinator)}`);
    }
    out.coordinator = o.coordinator;
  }
  if (o.deadlineMs !== undefined) {
    const d = o.deadlineMs;
    if (typeof d !== "number" || !Number.isFinite(d) || d <= 0) {
      fail(`${path}.deadlineMs`, `expected a positive number, got ${describe(d)}`);
    }
    out.deadlineMs = d;
  }
  if (o.error !== undefined) {
    if (typeof o.error !== "string") {
      fail(`${path}.error`, `expected a string, got ${describe(o.error)}`);
    }
    out.error = o.error;
  }
  Object.freeze(out);
  VALIDATED.add(out);
  return out;
}

/**
 * Operations this module validated and froze: validating them again can only give the same
 * answer, so `validateHistory` passes them through. Every checker validates its input, and
 * `checkHistory` runs five of them on the same history.
 */
const VALIDATED = new WeakSet<object>();

/**
 * Checks every operation (see {@link validateOperation}) and that ids are unique. Returns frozen
 * copies in the given order. Checkers call this first, so a hand-built history gets the same
 * checks as a parsed one.
 */
export function validateHistory(input: unknown): Operation[] {
  if (!Array.isArray(input)) fail("history", `expected an array, got ${describe(input)}`);
  const seen = new Set<number>();
  return input.map((raw, i) => {
    const op = VALIDATED.has(raw as object) ? (raw as Operation) : validateOperation(raw, `[${i}]`);
    if (seen.has(op.id)) fail(`[${i}].id`, `duplicate id ${op.id}`);
    seen.add(op.id);
    return op;
  });
}

function ms(t: number): string {
  return t.toFixed(t === Math.trunc(t) ? 0 : 2);
}

/**
 * One line for humans, e.g. `#7 c2 read "k" -> ["a"] ok [4, 5] via node-1`. Used in anomaly
 * messages and reports.
 */
export function describeOperation(op: Operation): string {
  let what: string = op.type;
  if (op.value !== undefined) what += ` ${JSON.stringify(op.value)}`;
  let s = `#${op.id} ${op.process} ${what} ${JSON.stringify(op.key)}`;
  if (op.context !== undefined) s += ` ctx=${JSON.stringify(op.context)}`;
  if (op.values !== undefined) s += ` -> ${JSON.stringify(op.values)}`;
  s += ` ${op.outcome} [${ms(op.invokeMs)}, ${op.completeMs === null ? "never" : ms(op.completeMs)}]`;
  if (op.coordinator !== undefined) s += ` via ${op.coordinator}`;
  if (op.error !== undefined) s += ` (${op.error})`;
  return s;
}

/** Sorts by invocation time, then id: the order every checker reads a history in. */
export function byInvocation(a: Operation, b: Operation): number {
  return a.invokeMs - b.invokeMs || a.id - b.id;
}
