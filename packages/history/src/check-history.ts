import type { DeadlineCheckResult } from "./deadline-checker.js";
import { checkDeadlines } from "./deadline-checker.js";
import { describe } from "./describe.js";
import { InvalidHistoryOptionsError } from "./errors.js";
import type { LinearizabilityResult } from "./linearizability/linearizability.js";
import { checkLinearizability } from "./linearizability/linearizability.js";
import type { History } from "./operation.js";
import { validateHistory } from "./operation.js";
import type { DeadlineOptions, LinearizabilityOptions, SessionOptions } from "./options.js";
import type { SessionCheckResult } from "./session-checker.js";
import { checkSessions } from "./session-checker.js";
import type { SetCheckResult } from "./set-checker.js";
import { checkSets } from "./set-checker.js";
import type { Verdict } from "./verdict.js";
import { worstVerdict } from "./verdict.js";

/** Which checkers `checkHistory` runs, each with its options; `false` skips one. */
export interface CheckHistoryOptions {
  /** @default {} (run with defaults) */
  linearizability?: LinearizabilityOptions | false;
  /** @default true */
  sets?: boolean;
  /** @default {} */
  sessions?: SessionOptions | false;
  /** @default {} */
  deadlines?: DeadlineOptions | false;
}

/** Every anomaly kind the checkers report, as counted in a {@link HistoryReport}. */
export type AnomalyKind =
  | "nonlinearizable"
  | "sibling-read"
  | "unwritten-value"
  | "lost"
  | "unexpected"
  | "failed-present"
  | "read-your-writes"
  | "monotonic-reads"
  | "late"
  | "unfinished";

export const ANOMALY_KINDS: readonly AnomalyKind[] = Object.freeze([
  "nonlinearizable",
  "sibling-read",
  "unwritten-value",
  "lost",
  "unexpected",
  "failed-present",
  "read-your-writes",
  "monotonic-reads",
  "late",
  "unfinished",
]);

export interface HistoryReport {
  /** The worst verdict of the checkers that ran. */
  readonly verdict: Verdict;
  readonly operations: {
    readonly total: number;
    readonly ok: number;
    readonly fail: number;
    readonly info: number;
    readonly keys: number;
    readonly processes: number;
  };
  /** Null when skipped. */
  readonly linearizability: LinearizabilityResult | null;
  readonly sets: SetCheckResult | null;
  readonly sessions: SessionCheckResult | null;
  readonly deadlines: DeadlineCheckResult | null;
  /** Anomalies by kind over all checkers (every kind present, zeros included). */
  readonly anomalies: Readonly<Record<AnomalyKind, number>>;
  readonly elapsedMs: number;
}

/**
 * Runs every checker that applies: keys with `add` operations go to the set checker, the other
 * keys to the linearizability and session checkers, and every operation to the deadline check.
 */
export function checkHistory(history: History, options: CheckHistoryOptions = {}): HistoryReport {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidHistoryOptionsError(`options must be an object, got ${describe(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!["linearizability", "sets", "sessions", "deadlines"].includes(k)) {
      throw new InvalidHistoryOptionsError(`unknown checkHistory option ${JSON.stringify(k)}`);
    }
  }
  if (options.sets !== undefined && typeof options.sets !== "boolean") {
    throw new InvalidHistoryOptionsError(`sets must be a boolean, got ${describe(options.sets)}`);
  }
  const start = performance.now();
  const ops = validateHistory(history);
  const linearizability =
    options.linearizability === false ? null : checkLinearizability(ops, options.linearizability);
  const sets = options.sets === false ? null : checkSets(ops);
  const sessions = options.sessions === false ? null : checkSessions(ops, options.sessions);
  const deadlines = options.deadlines === false ? null : checkDeadlines(ops, options.deadlines);

  const anomalies = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<
    AnomalyKind,
    number
  >;
  if (linearizability !== null) {
    anomalies.nonlinearizable = linearizability.counts.nonlinearizable;
    anomalies["sibling-read"] = linearizability.counts["sibling-read"];
    anomalies["unwritten-value"] = linearizability.counts["unwritten-value"];
  }
  if (sets !== null) {
    anomalies.lost = sets.totals.lost;
    anomalies.unexpected = sets.totals.unexpected;
    anomalies["failed-present"] = sets.totals.failedPresent;
  }
  if (sessions !== null) {
    anomalies["read-your-writes"] = sessions.counts["read-your-writes"];
    anomalies["monotonic-reads"] = sessions.counts["monotonic-reads"];
  }
  if (deadlines !== null) {
    anomalies.late = deadlines.counts.late;
    anomalies.unfinished = deadlines.counts.unfinished;
  }
  const verdicts = [linearizability, sets, sessions, deadlines].flatMap((r) =>
    r === null ? [] : [r.verdict],
  );
  return {
    verdict: worstVerdict(verdicts),
    operations: {
      total: ops.length,
      ok: ops.filter((o) => o.outcome === "ok").length,
      fail: ops.filter((o) => o.outcome === "fail").length,
      info: ops.filter((o) => o.outcome === "info").length,
      keys: new Set(ops.map((o) => o.key)).size,
      processes: new Set(ops.map((o) => o.process)).size,
    },
    linearizability,
    sets,
    sessions,
    deadlines,
    anomalies: Object.freeze(anomalies),
    elapsedMs: performance.now() - start,
  };
}
