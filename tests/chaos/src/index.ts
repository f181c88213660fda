// @distkv/chaos-tests: the chaos suite's machinery, private to this repository. The tests in
// test/ use it; `pnpm --filter @distkv/chaos-tests chaos` (src/cli.ts) runs one scenario from
// the command line. Everything a run needs is exported: the harness (ChaosCluster), the
// nemesis, the workloads, the convergence check and runChaos, which ties them together.

export {
  ChaosCluster,
  type ChaosClusterOptions,
  type ChaosNode,
  type LinkFaultSpec,
  type NodeRunState,
  serverMainPath,
} from "./cluster.js";
export {
  type ConvergenceOptions,
  type ConvergenceResult,
  checkConvergence,
  type HintDrainResult,
  type ReplicaCopy,
  replicaDifference,
  waitHintsDrained,
} from "./convergence.js";
export {
  FAULT_KINDS,
  type FaultEvent,
  type FaultKind,
  Nemesis,
  type NemesisOptions,
  pauseWindows,
  randomSkewMs,
} from "./nemesis.js";
export {
  type ChaosOptions,
  chaosOptionsFromEnv,
  DEFAULT_CALM_SECONDS,
  DEFAULT_CHAOS_SECONDS,
  DEFAULT_DEADLINE_MS,
  InvalidChaosOptionsError,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from "./options.js";
export { Random, randomSeed } from "./random.js";
export {
  BLIND_KEY_PREFIX,
  CONTEXT_KEY_PREFIX,
  RegisterWorkload,
  type RegisterWorkloadOptions,
} from "./register-workload.js";
export { chaosAnomalies, formatChaosReport } from "./report.js";
export {
  type ChaosResult,
  type FinalReadSummary,
  historyAt,
  KEY_FAMILY_PREFIX,
  type KeyFamily,
  runChaos,
} from "./run.js";
export {
  decodeSet,
  encodeSet,
  mergeSiblings,
  SetWorkload,
  type SetWorkloadOptions,
} from "./set-workload.js";
export {
  checkTombstones,
  type Resurrection,
  TOMBSTONE_KEY_PREFIX,
  type TombstoneCase,
  type TombstoneCheckResult,
  TombstoneWorkload,
  type TombstoneWorkloadOptions,
} from "./tombstone-workload.js";
export {
  ErrorCounts,
  entryNode,
  errorCodeOf,
  type WorkloadContext,
} from "./workload-context.js";
