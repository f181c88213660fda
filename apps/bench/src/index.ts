// Public surface of @distkv/bench. For users: runBenchmark (one run, several targets),
// runSuite/PEER_SUITE (the peer comparisons), the report types and formatTable. The workload
// generator, key choosers and latency helpers are exported for tests and for other tools that
// want YCSB-like key streams. Everything else is internal.

export {
  CleanupRegistry,
  type ProcessHandle,
} from "./cleanup.js";
export { errorKind, loadKeys, NotFoundError, type PhaseResult, runPhase } from "./driver.js";
export {
  BenchAbortedError,
  BenchOptionsError,
  isBenchAbortedError,
  isBenchOptionsError,
  isTargetStartError,
  isTargetUnavailableError,
  TargetStartError,
  TargetUnavailableError,
} from "./errors.js";
export { fnvHash64, fnvHash64Mod } from "./fnv-hash.js";
export {
  AcknowledgedCounter,
  type KeyChooser,
  SCRAMBLED_ITEM_COUNT,
  ScrambledZipfianChooser,
  SkewedLatestChooser,
  UniformChooser,
  ZIPFIAN_CONSTANT,
  ZipfianChooser,
} from "./generators.js";
export {
  createLatencyHistogram,
  type LatencySummary,
  MAX_TRACKED_MICROS,
  mergeHistograms,
  recordMillis,
  summarize,
} from "./latency.js";
export {
  type BenchOptions,
  DEFAULT_CONCURRENCY,
  DEFAULT_DURATION_MS,
  DEFAULT_KEY_COUNT,
  DEFAULT_ROUNDS,
  DEFAULT_SEED,
  DEFAULT_VALUE_BYTES,
  DEFAULT_WARMUP_MS,
  type ResolvedBenchOptions,
  type RunLength,
  resolveBenchOptions,
} from "./options.js";
export { Random } from "./random.js";
export { type BenchReport, formatTable, type MachineInfo, ratios, writeReport } from "./report.js";
export {
  aggregateTarget,
  mixTolerance,
  type RoundResult,
  type TargetResult,
  validityReasons,
} from "./results.js";
export { measureTargets, runBenchmark, startTarget } from "./runner.js";
export { type GoalVerdict, judge, PEER_SUITE, runSuite, type SuiteEntry } from "./suite.js";
export type { DistKVConsistency, DistKVTargetOptions } from "./targets/distkv.js";
export { ETCD_DEBIAN_PACKAGE, type EtcdTargetOptions } from "./targets/etcd.js";
export { REDIS_DEBIAN_PACKAGE, type RedisTargetOptions } from "./targets/redis.js";
export type {
  KVConnection,
  RunningTarget,
  StartContext,
  TargetName,
  TargetVersion,
} from "./targets/target.js";
export {
  type KeyDistribution,
  keyName,
  makeValuePool,
  type Operation,
  type OperationKind,
  WORKLOADS,
  type WorkloadDefinition,
  WorkloadGenerator,
  type WorkloadName,
} from "./workload.js";
export { zeta } from "./zeta.js";
