/**
 * Runs the in-memory test server in the foreground, for trying the CLI by hand and for the
 * README's examples: `npx tsx test/support/serve.ts [port]` (default 8080). The status it
 * reports is a fixed sample (three nodes, one dead), not measured data. Ctrl-C stops it.
 */
import { NodeState } from "@distkv/rpc";
import { startTestServer } from "./kv-test-server.js";

const port = Number(process.argv[2] ?? 8080);
const server = await startTestServer({ port });
const now = Date.now();
server.status = {
  nodeId: "node-1",
  totalNodes: 3,
  aliveNodes: 2,
  deadNodes: 1,
  availabilityPercent: (2 / 3) * 100,
  replicas: 3,
  readQuorum: 2,
  writeQuorum: 2,
  virtualNodes: 150,
  nodes: [
    { id: "node-1", address: "127.0.0.1:8080", state: NodeState.ALIVE, lastSeenMs: 0n },
    { id: "node-2", address: "127.0.0.1:8081", state: NodeState.ALIVE, lastSeenMs: BigInt(now) },
    {
      id: "node-3",
      address: "127.0.0.1:8082",
      state: NodeState.DEAD,
      lastSeenMs: BigInt(now - 95_000),
    },
  ],
  metrics: {
    requestsTotal: 1520n,
    requestsFailed: 3n,
    latencyAvgMs: 0.84,
    latencyP50Ms: 0.61,
    latencyP99Ms: 3.2,
    uptimeSeconds: 3723n,
    hintsPending: 12n,
    storageBytes: 1_258_291n,
  },
};
console.log(`test server on ${server.address} (in-memory; sample status)`);
process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
