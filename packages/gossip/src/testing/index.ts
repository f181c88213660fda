/**
 * @distkv/gossip/testing: a deterministic simulated network (simulated time, seeded loss and
 * delays, partitions, crashes, pauses) and a helper that runs many Gossip nodes on it. For tests
 * and simulations, of this package and of the server's cluster suites. Not for production.
 */

export { EventHeap, type TimedEvent } from "./event-heap.js";
export { SeededRandom } from "./seeded-random.js";
export { SimCluster, type SimClusterInit, type SimNodeOptions } from "./sim-cluster.js";
export {
  type LinkConditions,
  SimNetwork,
  SimNetworkError,
  type SimNetworkInit,
  type SimNetworkStats,
} from "./sim-network.js";
