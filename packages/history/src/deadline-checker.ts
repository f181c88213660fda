import type { History, Operation } from "./operation.js";
import { byInvocation, describeOperation, validateHistory } from "./operation.js";
import type { DeadlineOptions } from "./options.js";
import { resolveDeadlineOptions } from "./options.js";
import type { Verdict } from "./verdict.js";

/**
 * "No operation hangs past its deadline": every operation, whatever its outcome, has
 * `completeMs - invokeMs <= deadline + slackMs`, where the deadline is the operation's own
 * `deadlineMs` or the option's. An operation that never completed (`completeMs: null`) is
 * `unfinished`: the client never got an answer nor gave up, which is the hang this catches.
 */
export interface DeadlineAnomaly {
  readonly kind: "late" | "unfinished";
  readonly op: Operation;
  /** How long it took; null if it never completed. */
  readonly durationMs: number | null;
  /** Its deadline plus the slack. */
  readonly limitMs: number;
  readonly message: string;
}

export interface DeadlineCheckResult {
  readonly verdict: Verdict;
  readonly operations: number;
  /** The first `maxReported` anomalies, by invocation. */
  readonly anomalies: readonly DeadlineAnomaly[];
  readonly counts: { readonly late: number; readonly unfinished: number };
  /** The longest completed operation, in ms (0 for none). */
  readonly maxDurationMs: number;
}

export function checkDeadlines(history: History, options?: DeadlineOptions): DeadlineCheckResult {
  const opts = resolveDeadlineOptions(options);
  const ops = validateHistory(history).sort(byInvocation);
  const anomalies: DeadlineAnomaly[] = [];
  const counts = { late: 0, unfinished: 0 };
  let maxDurationMs = 0;
  for (const op of ops) {
    const limitMs = (op.deadlineMs ?? opts.deadlineMs) + opts.slackMs;
    const durationMs = op.completeMs === null ? null : op.completeMs - op.invokeMs;
    if (durationMs !== null) maxDurationMs = Math.max(maxDurationMs, durationMs);
    if (durationMs !== null && durationMs <= limitMs) continue;
    const kind = durationMs === null ? "unfinished" : "late";
    counts[kind]++;
    if (anomalies.length >= opts.maxReported) continue;
    anomalies.push({
      kind,
      op,
      durationMs,
      limitMs,
      message:
        durationMs === null
          ? `${describeOperation(op)} never completed (limit ${limitMs} ms)`
          : `${describeOperation(op)} took ${durationMs.toFixed(1)} ms, over its limit of ${limitMs} ms`,
    });
  }
  return {
    verdict: counts.late + counts.unfinished > 0 ? "violation" : "ok",
    operations: ops.length,
    anomalies,
    counts,
    maxDurationMs,
  };
}
