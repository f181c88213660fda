import type { Operation, Outcome } from "../src/index.js";

/**
 * Compact construction of hand-written histories for tests:
 * `w("c1", "a", 0, 10)` is client c1 writing "a" to key "x" from t=0 to t=10, ok.
 */
export class Build {
  readonly ops: Operation[] = [];

  add(op: Omit<Operation, "id">): Operation {
    const full = { id: this.ops.length, ...op } as Operation;
    this.ops.push(full);
    return full;
  }

  w(
    process: string,
    value: string,
    invokeMs: number,
    completeMs: number | null,
    extra: Partial<Operation> = {},
  ): Operation {
    return this.add({
      process,
      key: "x",
      type: "write",
      value,
      invokeMs,
      completeMs,
      outcome: completeMs === null ? "info" : "ok",
      ...extra,
    });
  }

  r(
    process: string,
    values: string[],
    invokeMs: number,
    completeMs: number,
    extra: Partial<Operation> = {},
  ): Operation {
    return this.add({
      process,
      key: "x",
      type: "read",
      values,
      invokeMs,
      completeMs,
      outcome: "ok",
      ...extra,
    });
  }

  d(
    process: string,
    invokeMs: number,
    completeMs: number | null,
    extra: Partial<Operation> = {},
  ): Operation {
    return this.add({
      process,
      key: "x",
      type: "delete",
      invokeMs,
      completeMs,
      outcome: completeMs === null ? "info" : "ok",
      ...extra,
    });
  }

  /** An add of `element` to set key `key`. */
  a(
    process: string,
    key: string,
    element: string,
    invokeMs: number,
    completeMs: number | null,
    outcome: Outcome = "ok",
  ): Operation {
    return this.add({ process, key, type: "add", value: element, invokeMs, completeMs, outcome });
  }
}
