import type { History, Operation } from "./operation.js";
import { validateHistory } from "./operation.js";
import type { Verdict } from "./verdict.js";
import { worstVerdict } from "./verdict.js";

/**
 * The set workload, as Jepsen's `set` checker: clients add unique elements to a few set-valued
 * keys (each `add` is the client's read-merge-write-back with the context); at the end, after
 * the faults stop, each key gets a final read. Then for each key:
 *
 * - final read: the `ok` read of the key invoked last;
 * - attempted: elements of any `add`; acknowledged: of an `ok` add;
 * - `lost`: acknowledged, absent from the final read, and acknowledged before the final read was
 *   invoked (an add acknowledged later may legitimately be missing: `unsettled`);
 * - `unexpected`: present in the final read and never attempted;
 * - `recovered`: present, attempted, never acknowledged, but some attempt was `info` (the
 *   client did not know; the element made it);
 * - `failedPresent`: present, and every attempt reported `fail` ("definitely did not happen"
 *   was wrong);
 * - `present`: acknowledged and present (the good case).
 *
 * An element added several times counts once, as acknowledged if any attempt was `ok`.
 */
export interface SetKeyResult {
  readonly key: string;
  /** `unknown` when acknowledged adds exist but no final read does. */
  readonly verdict: Verdict;
  readonly finalRead: Operation | null;
  readonly attempted: number;
  readonly acknowledged: number;
  /** Elements whose attempts all reported `fail`. */
  readonly failed: number;
  /** Elements never acknowledged with at least one `info` attempt. */
  readonly indeterminate: number;
  readonly present: number;
  readonly lost: readonly string[];
  readonly unexpected: readonly string[];
  readonly recovered: readonly string[];
  readonly failedPresent: readonly string[];
  readonly unsettled: readonly string[];
}

export interface SetCheckResult {
  readonly verdict: Verdict;
  /** Operations checked: every add and read of a set key. */
  readonly operations: number;
  readonly keys: readonly SetKeyResult[];
  /** Sums over keys (element counts). */
  readonly totals: {
    readonly attempted: number;
    readonly acknowledged: number;
    readonly failed: number;
    readonly indeterminate: number;
    readonly present: number;
    readonly lost: number;
    readonly unexpected: number;
    readonly recovered: number;
    readonly failedPresent: number;
    readonly unsettled: number;
  };
}

/**
 * Checks the set workload on every key that has `add` operations (other keys are ignored; the
 * register checkers handle them). A read of a set key must record in `values` the elements of
 * the merged set: the union over its siblings.
 */
export function checkSets(history: History): SetCheckResult {
  const ops = validateHistory(history);
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    if (op.type !== "add") continue;
    if (!byKey.has(op.key)) byKey.set(op.key, []);
  }
  for (const op of ops) {
    if (op.type === "add" || op.type === "read") byKey.get(op.key)?.push(op);
  }
  const keys: SetKeyResult[] = [];
  let operations = 0;
  for (const key of [...byKey.keys()].sort()) {
    const keyOps = byKey.get(key)!;
    operations += keyOps.length;
    keys.push(checkKey(key, keyOps));
  }
  const sum = (f: (k: SetKeyResult) => number) => keys.reduce((n, k) => n + f(k), 0);
  return {
    verdict: worstVerdict(keys.map((k) => k.verdict)),
    operations,
    keys,
    totals: {
      attempted: sum((k) => k.attempted),
      acknowledged: sum((k) => k.acknowledged),
      failed: sum((k) => k.failed),
      indeterminate: sum((k) => k.indeterminate),
      present: sum((k) => k.present),
      lost: sum((k) => k.lost.length),
      unexpected: sum((k) => k.unexpected.length),
      recovered: sum((k) => k.recovered.length),
      failedPresent: sum((k) => k.failedPresent.length),
      unsettled: sum((k) => k.unsettled.length),
    },
  };
}

interface Element {
  ok: boolean;
  info: boolean;
  /** Latest acknowledgement time over `ok` attempts. */
  ackMs: number;
}

function checkKey(key: string, ops: readonly Operation[]): SetKeyResult {
  const elements = new Map<string, Element>();
  let finalRead: Operation | null = null;
  for (const op of ops) {
    if (op.type === "read") {
      if (
        op.outcome === "ok" &&
        (finalRead === null ||
          op.invokeMs > finalRead.invokeMs ||
          (op.invokeMs === finalRead.invokeMs && op.id > finalRead.id))
      ) {
        finalRead = op;
      }
      continue;
    }
    const e = elements.get(op.value!) ?? { ok: false, info: false, ackMs: -Infinity };
    if (op.outcome === "ok") {
      e.ok = true;
      e.ackMs = Math.max(e.ackMs, op.completeMs!);
    } else if (op.outcome === "info") {
      e.info = true;
    }
    elements.set(op.value!, e);
  }

  let acknowledged = 0;
  let failed = 0;
  let indeterminate = 0;
  for (const e of elements.values()) {
    if (e.ok) acknowledged++;
    else if (e.info) indeterminate++;
    else failed++;
  }
  const base = {
    key,
    finalRead,
    attempted: elements.size,
    acknowledged,
    failed,
    indeterminate,
  };
  if (finalRead === null) {
    return {
      ...base,
      verdict: acknowledged > 0 ? "unknown" : "ok",
      present: 0,
      lost: [],
      unexpected: [],
      recovered: [],
      failedPresent: [],
      unsettled: [],
    };
  }

  const seen = new Set(finalRead.values!);
  const lost: string[] = [];
  const unsettled: string[] = [];
  let present = 0;
  for (const [element, e] of elements) {
    if (!e.ok) continue;
    if (seen.has(element)) present++;
    // Acknowledged at or after the final read started: it may have landed after the read saw
    // the replicas. Same-instant counts as concurrent, as in the linearizability checker.
    else if (e.ackMs >= finalRead.invokeMs) unsettled.push(element);
    else lost.push(element);
  }
  const unexpected: string[] = [];
  const recovered: string[] = [];
  const failedPresent: string[] = [];
  for (const element of seen) {
    const e = elements.get(element);
    if (e === undefined) unexpected.push(element);
    else if (e.ok) continue;
    else if (e.info) recovered.push(element);
    else failedPresent.push(element);
  }
  const anomalies = lost.length + unexpected.length + failedPresent.length;
  return {
    ...base,
    verdict: anomalies > 0 ? "violation" : "ok",
    present,
    lost: lost.sort(),
    unexpected: unexpected.sort(),
    recovered: recovered.sort(),
    failedPresent: failedPresent.sort(),
    unsettled: unsettled.sort(),
  };
}
