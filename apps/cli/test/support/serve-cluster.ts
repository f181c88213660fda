/**
 * Runs the fake cluster of cluster-fake-server.ts in the foreground, for trying `repair`,
 * `cleanup` and `decommission` by hand: `npx tsx test/support/serve-cluster.ts`. Prints the
 * nodes' addresses. Its answers are scripted (see that file), not measured. Ctrl-C stops it.
 */
import { startFakeCluster } from "./cluster-fake-server.js";

const cluster = await startFakeCluster({ gossipPolls: 2 });
for (const n of cluster.nodes) console.log(`${n.id} on ${n.address} (fake, scripted answers)`);
const stop = () => void cluster.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
