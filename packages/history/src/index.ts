/**
 * @distkv/history: operation histories of a DistKV run and the checkers that judge them
 * (linearizability of a register, the set workload, session guarantees, deadlines).
 *
 * For users: the chaos suite records with `HistoryRecorder`, saves with `toJSONL`, and checks
 * with `checkHistory` (or one checker at a time). Everything not exported here is internal.
 */

export type { AnomalyKind, CheckHistoryOptions, HistoryReport } from "./check-history.js";
export { ANOMALY_KINDS, checkHistory } from "./check-history.js";
export type { DeadlineAnomaly, DeadlineCheckResult } from "./deadline-checker.js";
export { checkDeadlines } from "./deadline-checker.js";
export type { HistoryErrorOptions } from "./errors.js";
export {
  HistoryError,
  InvalidHistoryError,
  InvalidHistoryOptionsError,
  InvalidOperationError,
  isHistoryError,
  isInvalidHistoryError,
  isInvalidHistoryOptionsError,
  isInvalidOperationError,
  isOperationAlreadyCompletedError,
  OperationAlreadyCompletedError,
} from "./errors.js";
export type { FormatReportOptions } from "./format-report.js";
export { formatReport } from "./format-report.js";
export { operationToJSON, parseJSONL, toJSONL } from "./jsonl.js";
export type {
  KeyLinearizability,
  LinearizabilityAnomaly,
  LinearizabilityResult,
  NonLinearizableAnomaly,
  SiblingReadAnomaly,
  UnwrittenValueAnomaly,
} from "./linearizability/linearizability.js";
export { checkLinearizability } from "./linearizability/linearizability.js";
export type { History, Operation, OperationType, Outcome } from "./operation.js";
export {
  byInvocation,
  describeOperation,
  validateHistory,
  validateOperation,
} from "./operation.js";
export type {
  Clock,
  DeadlineOptions,
  HistoryRecorderOptions,
  LinearizabilityOptions,
  ResolvedDeadlineOptions,
  ResolvedHistoryRecorderOptions,
  ResolvedLinearizabilityOptions,
  ResolvedSessionOptions,
  SessionOptions,
  SiblingReadPolicy,
} from "./options.js";
export {
  DEFAULT_DEADLINE_MS,
  DEFAULT_DEADLINE_SLACK_MS,
  DEFAULT_LINEARIZABILITY_TIME_LIMIT_MS,
  DEFAULT_MAX_REPORTED,
  DEFAULT_MAX_SHRINK_CHECKS,
  DEFAULT_MAX_STATES_PER_KEY,
  DEFAULT_WINDOW_OPS,
  resolveDeadlineOptions,
  resolveHistoryRecorderOptions,
  resolveLinearizabilityOptions,
  resolveSessionOptions,
} from "./options.js";
export type { FailureResult, InvokeInput, OkResult, OperationHandle } from "./recorder.js";
export { HistoryRecorder } from "./recorder.js";
export type { SessionAnomaly, SessionCheckResult } from "./session-checker.js";
export { checkSessions } from "./session-checker.js";
export type { SetCheckResult, SetKeyResult } from "./set-checker.js";
export { checkSets } from "./set-checker.js";
export type { Verdict } from "./verdict.js";
export { worstVerdict } from "./verdict.js";
