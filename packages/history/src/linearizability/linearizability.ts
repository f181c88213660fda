import type { History, Operation } from "../operation.js";
import { byInvocation, describeOperation, validateHistory } from "../operation.js";
import type { LinearizabilityOptions } from "../options.js";
import { resolveLinearizabilityOptions } from "../options.js";
import type { Verdict } from "../verdict.js";
import { worstVerdict } from "../verdict.js";
import type { RegisterOp } from "./register-model.js";
import { ABSENT, DELETE, READ, ValueTable, WRITE } from "./register-model.js";
import { shrinkViolation } from "./shrink.js";
import type { Deepest, SearchBudget } from "./wgl-search.js";
import { searchLinearization } from "./wgl-search.js";
import { searchWindows } from "./windows.js";

/** A read that returned several siblings, under the `violation` sibling policy. */
export interface SiblingReadAnomaly {
  readonly kind: "sibling-read";
  readonly key: string;
  readonly op: Operation;
  readonly message: string;
}

/** A read that returned a value no `ok` or `info` write of the key wrote. */
export interface UnwrittenValueAnomaly {
  readonly kind: "unwritten-value";
  readonly key: string;
  readonly op: Operation;
  /** The values of the read that nothing wrote. */
  readonly values: readonly string[];
  /** Writes of those values that reported `fail` (so "definitely did not happen" was wrong). */
  readonly failedWrites: readonly Operation[];
  readonly message: string;
}

/** The key's remaining operations have no linearization. */
export interface NonLinearizableAnomaly {
  readonly kind: "nonlinearizable";
  readonly key: string;
  /**
   * Where it was proven: `key` (the search of all the key's operations failed) or `window` (the
   * full search ran out of budget and a window of them failed on its own; see `windowOps`).
   */
  readonly scope: "key" | "window";
  /** Operations in the searched history that failed (all of the key's, or the window's). */
  readonly searched: number;
  /**
   * The longest linearizable prefix the failing search found, in the order it linearized them
   * (of the window, when `scope` is `window`).
   */
  readonly prefix: readonly Operation[];
  /** The register after that prefix; null is absent. */
  readonly valueAfterPrefix: string | null;
  /**
   * The operation that completed next after the prefix's possibilities ran out: it had to take
   * effect before its completion, and neither it nor any other pending operation could.
   */
  readonly blocked: Operation;
  /** The operations that could have come next after the prefix (at most 16). */
  readonly candidates: readonly Operation[];
  /**
   * A sub-history that is not linearizable on its own, sorted by invocation: the evidence to
   * read. Shrunk from the key's operations unless `shrink` is off or the budget ran out (then
   * it can be all of them).
   */
  readonly witness: readonly Operation[];
  readonly message: string;
}

export type LinearizabilityAnomaly =
  | SiblingReadAnomaly
  | UnwrittenValueAnomaly
  | NonLinearizableAnomaly;

export interface KeyLinearizability {
  readonly key: string;
  readonly verdict: Verdict;
  /** Operations the search ran on: `ok` and `info` writes and deletes, `ok` reads. */
  readonly operations: number;
  /**
   * Operations that constrain nothing: `fail` ones (they did not happen), `info` reads, and
   * `info` writes/deletes whose outcome no read could have observed.
   */
  readonly ignored: number;
  readonly statesExplored: number;
  readonly elapsedMs: number;
  /**
   * Why the full search of the key stopped without an answer, when it did. The verdict can
   * still be `violation` (another anomaly, or a failing window).
   */
  readonly unknownReason?: "max-states" | "time-limit";
  readonly anomalies: readonly LinearizabilityAnomaly[];
}

export interface LinearizabilityResult {
  /** `violation` if any key has an anomaly; else `unknown` if any key ran out of budget. */
  readonly verdict: Verdict;
  /** Operations checked, over all keys (including the anomalous reads). */
  readonly operations: number;
  readonly keys: readonly KeyLinearizability[];
  /** Keys with `add` operations: set-workload keys, left to `checkSets`. */
  readonly skippedKeys: readonly string[];
  readonly statesExplored: number;
  readonly elapsedMs: number;
  /** Anomalies by kind over all keys, plus keys whose verdict is `unknown`. */
  readonly counts: {
    readonly nonlinearizable: number;
    readonly "sibling-read": number;
    readonly "unwritten-value": number;
    readonly unknownKeys: number;
  };
}

/**
 * Checks that each key's reads, writes and deletes are linearizable as a single register that
 * starts absent (P-compositionality: a history is linearizable iff each key's is, so keys are
 * searched one by one). `fail` operations are dropped; `info` writes and deletes may take effect
 * at any time after their invocation, or never; `info` reads are dropped. See
 * `SiblingReadPolicy` for reads that return siblings.
 */
export function checkLinearizability(
  history: History,
  options?: LinearizabilityOptions,
): LinearizabilityResult {
  const opts = resolveLinearizabilityOptions(options);
  const ops = validateHistory(history);
  const start = opts.now();
  const budget: SearchBudget = {
    maxStates: opts.maxStatesPerKey,
    deadline: start + opts.timeLimitMs,
    now: opts.now,
  };

  const byKey = new Map<string, Operation[]>();
  const setKeys = new Set<string>();
  for (const op of ops) {
    if (op.type === "add") setKeys.add(op.key);
    let list = byKey.get(op.key);
    if (list === undefined) {
      list = [];
      byKey.set(op.key, list);
    }
    list.push(op);
  }
  const keys: KeyLinearizability[] = [];
  for (const key of [...byKey.keys()].sort()) {
    if (setKeys.has(key)) continue;
    keys.push(checkKey(key, byKey.get(key)!, opts, budget));
  }

  const counts = { nonlinearizable: 0, "sibling-read": 0, "unwritten-value": 0, unknownKeys: 0 };
  let operations = 0;
  let statesExplored = 0;
  for (const k of keys) {
    operations += k.operations;
    statesExplored += k.statesExplored;
    if (k.verdict === "unknown") counts.unknownKeys++;
    for (const a of k.anomalies) {
      counts[a.kind]++;
      if (a.kind !== "nonlinearizable") operations++;
    }
  }
  return {
    verdict: worstVerdict(keys.map((k) => k.verdict)),
    operations,
    keys,
    skippedKeys: [...setKeys].sort(),
    statesExplored,
    elapsedMs: opts.now() - start,
    counts,
  };
}

function checkKey(
  key: string,
  keyOps: readonly Operation[],
  opts: ReturnType<typeof resolveLinearizabilityOptions>,
  budget: SearchBudget,
): KeyLinearizability {
  const t0 = opts.now();
  const values = new ValueTable();
  const written = new Set<string>();
  const failedWrites = new Map<string, Operation[]>();
  for (const op of keyOps) {
    if (op.type !== "write") continue;
    if (op.outcome === "fail") {
      const list = failedWrites.get(op.value!) ?? [];
      list.push(op);
      failedWrites.set(op.value!, list);
    } else {
      written.add(op.value!);
    }
  }

  const anomalies: LinearizabilityAnomaly[] = [];
  let searchOps: RegisterOp[] = [];
  let ignored = 0;
  for (const op of [...keyOps].sort(byInvocation)) {
    if (op.outcome === "fail" || (op.type === "read" && op.outcome === "info")) {
      ignored++;
      continue;
    }
    const ret = op.outcome === "info" ? Number.POSITIVE_INFINITY : op.completeMs!;
    if (op.type === "write") {
      searchOps.push({
        op,
        kind: WRITE,
        arg: values.id(op.value!),
        expect: [],
        call: op.invokeMs,
        ret,
      });
      continue;
    }
    if (op.type === "delete") {
      searchOps.push({ op, kind: DELETE, arg: ABSENT, expect: [], call: op.invokeMs, ret });
      continue;
    }
    // An ok read. Equal values are one value: two versions carrying the same bytes are
    // indistinguishable to the client.
    const read = [...new Set(op.values!)];
    const unwritten = read.filter((v) => !written.has(v));
    if (unwritten.length > 0) {
      const failed = unwritten.flatMap((v) => failedWrites.get(v) ?? []);
      anomalies.push({
        kind: "unwritten-value",
        key,
        op,
        values: unwritten,
        failedWrites: failed,
        message:
          `${describeOperation(op)} read ${unwritten.map((v) => JSON.stringify(v)).join(", ")}, ` +
          (failed.length > 0
            ? `written only by operations that reported fail (${failed.map((f) => `#${f.id}`).join(", ")})`
            : "which no write of this key wrote"),
      });
      continue;
    }
    if (read.length > 1 && opts.siblingReads === "violation") {
      anomalies.push({
        kind: "sibling-read",
        key,
        op,
        message: `${describeOperation(op)} returned ${read.length} siblings; a linearizable register holds one value`,
      });
      continue;
    }
    const expect = read.length === 0 ? [ABSENT] : read.map((v) => values.id(v));
    searchOps.push({ op, kind: READ, arg: 0, expect, call: op.invokeMs, ret });
  }

  // An `info` write or delete that no remaining read could have observed is dropped: it may not
  // have happened, and taking effect could never help a read, so dropping it changes no verdict
  // while sparing the search the choice of where to put it.
  const observed = new Set<number>();
  for (const o of searchOps) if (o.kind === READ) for (const s of o.expect) observed.add(s);
  const kept = searchOps.filter(
    (o) =>
      o.kind === READ ||
      o.ret !== Number.POSITIVE_INFINITY ||
      observed.has(o.kind === WRITE ? o.arg : ABSENT),
  );
  ignored += searchOps.length - kept.length;
  searchOps = kept;

  const base = { key, operations: searchOps.length, ignored };
  if (budget.now() >= budget.deadline) {
    return {
      ...base,
      verdict: anomalies.length > 0 ? "violation" : "unknown",
      statesExplored: 0,
      elapsedMs: opts.now() - t0,
      unknownReason: "time-limit",
      anomalies,
    };
  }
  const outcome = searchLinearization(searchOps, budget);
  let states = outcome.states;
  let unknownReason: "max-states" | "time-limit" | undefined;
  let failed: { ops: RegisterOp[]; deepest: Deepest; scope: "key" | "window" } | undefined;
  if (outcome.result === "violation") {
    failed = { ops: searchOps, deepest: outcome.deepest, scope: "key" };
  } else if (outcome.result === "unknown") {
    unknownReason = outcome.reason;
    if (outcome.reason === "max-states" && opts.windowOps > 0) {
      const stuck = outcome.deepest === null ? undefined : searchOps[outcome.deepest.blocked];
      const w = searchWindows(searchOps, budget, opts.windowOps, stuck);
      states += w.states;
      if (w.window !== null)
        failed = { ops: w.window.ops, deepest: w.window.deepest, scope: "window" };
    }
  }
  if (failed !== undefined) {
    const d = failed.deepest;
    const searched = failed.ops;
    const witnessOps =
      opts.shrink && opts.maxShrinkChecks > 0
        ? shrinkViolation(searched, searched[d.blocked]!, budget, opts.maxShrinkChecks)
        : searched;
    const prefix = d.prefix.map((i) => searched[i]!.op);
    const blocked = searched[d.blocked]!.op;
    const valueAfterPrefix = values.value(d.state);
    anomalies.push({
      kind: "nonlinearizable",
      key,
      scope: failed.scope,
      searched: searched.length,
      prefix,
      valueAfterPrefix,
      blocked,
      candidates: d.candidates.map((i) => searched[i]!.op),
      witness: witnessOps.map((o) => o.op).sort(byInvocation),
      message:
        `no linearization of ${
          failed.scope === "key"
            ? `the ${searched.length} operations on ${JSON.stringify(key)}`
            : `a window of ${searched.length} of the ${searchOps.length} operations on ${JSON.stringify(key)}`
        }: the longest linearizable prefix has ${prefix.length}, leaving the register ` +
        `${valueAfterPrefix === null ? "absent" : JSON.stringify(valueAfterPrefix)}; next, ` +
        `${describeOperation(blocked)} had to take effect before it completed, and neither it nor ` +
        "any other pending operation can",
    });
  }
  const verdict: Verdict =
    anomalies.length > 0 ? "violation" : unknownReason !== undefined ? "unknown" : "ok";
  const result: KeyLinearizability = {
    ...base,
    verdict,
    statesExplored: states,
    elapsedMs: opts.now() - t0,
    anomalies,
  };
  return unknownReason === undefined ? result : { ...result, unknownReason };
}
