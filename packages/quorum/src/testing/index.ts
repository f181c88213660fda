/**
 * @distkv/quorum/testing: an in-process cluster for tests and simulation. N nodes with in-memory
 * stores joined by a fault-injecting network (drops, delays, crashed or unresponsive nodes), a
 * seeded RNG and a manual clock, so a run is reproducible from its seed. Not for production.
 */

export {
  InMemoryCluster,
  type InMemoryClusterInit,
  type InMemoryClusterNode,
} from "./in-memory-cluster.js";
export { InMemoryMembership } from "./in-memory-membership.js";
export {
  InMemoryNetwork,
  type InMemoryNetworkInit,
  type LinkFault,
  type NetworkCounters,
  NodeDownError,
  type NodeFault,
  type ReplicaHandler,
} from "./in-memory-network.js";
export { flushMicrotasks, ManualClock } from "./manual-clock.js";
export { SeededRandom } from "./seeded-random.js";
