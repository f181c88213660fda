/**
 * @distkv/simulation: deterministic simulation of a whole DistKV cluster in one process.
 *
 * For users (tests, the `pnpm simulate` CLI): `runSimulation` runs one seed and returns its
 * anomalies, figures and trace hash; the summary helpers aggregate and print many seeds. The
 * building blocks (scheduler, network, disk, node, workload, nemesis) are exported for tests
 * that compose their own scenarios. Everything not exported here is internal.
 */

export { type CliArgs, parseArgs } from "./args.js";
export {
  InvalidSimulationOptionsError,
  isInvalidSimulationOptionsError,
  isSimNetworkError,
  isSimulationError,
  isStorageFailedError,
  SimNetworkError,
  SimulationError,
  type SimulationErrorOptions,
  StorageFailedError,
} from "./errors.js";
export { gossipMembership, isUsable } from "./membership.js";
export {
  drawFaultMix,
  type FaultCounters,
  type FaultMix,
  Nemesis,
  type NemesisInit,
} from "./nemesis.js";
export {
  CALM_LINK,
  type LinkConditions,
  type NetworkCounters,
  type ReplicaEndpoint,
  SimNetwork,
} from "./network.js";
export { type NodeParts, type NodeState, SimNode, type SimNodeInit } from "./node.js";
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_NODES,
  DEFAULT_OPERATIONS,
  DEFAULT_REPLICAS,
  DEFAULT_TIMEOUT_MS,
  PROFILE_RANGES,
  type ResolvedSimulationOptions,
  resolveSimulationOptions,
  type SimulationOptions,
} from "./options.js";
export { between, pick, SeededRandom } from "./random.js";
export { type EventOwner, Scheduler, TraceHash } from "./scheduler.js";
export {
  runSimulation,
  SIMULATION_ANOMALY_KINDS,
  type SimulationAnomaly,
  type SimulationAnomalyKind,
  type SimulationResult,
} from "./simulation.js";
export { LsmNodeStorage, type NodeStorageOptions, SimDisk } from "./storage.js";
export {
  addResult,
  emptySummary,
  formatFailure,
  formatResultLine,
  formatSummary,
  reproduceCommand,
  type SeedsSummary,
} from "./summary.js";
export {
  encodeElements,
  unionOfSiblings,
  Workload,
  type WorkloadCounters,
  type WorkloadInit,
} from "./workload.js";
