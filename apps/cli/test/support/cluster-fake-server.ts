/**
 * A fake DistKV cluster for the CLI's repair, cleanup, decommission and removenode tests:
 * several in-process Connect servers (cleartext HTTP/2 on ephemeral loopback ports), one per
 * fake node, serving ClusterService from one scripted model. Not DistKV: no data, no gossip; just the answers a
 * real cluster gives, in the order it gives them.
 *
 * Decommission model: `Decommission` marks the target leaving. Each `Status` the leaving node
 * answers advances its hand-over by one target (`streaming` progress); after `handoverPolls`
 * of them it turns left (its last answer says so when `reportsLeftBeforeExit`) and its server
 * closes, as the real node exits. The other nodes keep reporting it leaving for `gossipPolls`
 * more polls (gossip takes a moment), then left. `stuck` never finishes the hand-over.
 *
 * Repair: `Repair` streams `repairScript(request, node)`; the default is three progress
 * snapshots and a final one with `done` set.
 *
 * Cleanup: `Cleanup` for a node id the cluster does not have is NOT_FOUND (as the real server
 * answers); otherwise it streams `cleanupScript(request, node)`, by default two progress
 * snapshots and a final one with `done` set.
 *
 * RemoveNode: the nodes listed in `dead` start dead (their servers do not run). Removing one
 * marks it left, which every node's `Status` then reports (the fake has no gossip delay);
 * removing a node that already left changes nothing. Any other node is FAILED_PRECONDITION, an
 * unknown one NOT_FOUND, the answering node itself (or no id) INVALID_ARGUMENT, as the real
 * server answers.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type CleanupResponseSchema,
  ClusterService,
  DEFAULT_SERVER_MAX_TIMEOUT_MS,
  NodeState,
  type RepairResponseSchema,
} from "@distkv/rpc";

export type RepairInit = MessageInitShape<typeof RepairResponseSchema>;
export type CleanupInit = MessageInitShape<typeof CleanupResponseSchema>;

export interface FakeClusterOptions {
  /** @default ["node-1", "node-2", "node-3"] */
  ids?: readonly string[];
  /** @default 3 */
  handoverPolls?: number;
  /** @default 1 */
  gossipPolls?: number;
  /** @default false */
  stuck?: boolean;
  /** @default false */
  reportsLeftBeforeExit?: boolean;
  /** Nodes that start dead (not running), for RemoveNode. @default [] */
  dead?: readonly string[];
}

export interface FakeNode {
  readonly id: string;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** False once the node "exited" (its server is closed). */
  running: boolean;
}

export interface SeenCall {
  node: string;
  method: "status" | "decommission" | "repair" | "cleanup" | "removeNode";
  nodeId?: string;
}

export interface FakeCluster {
  readonly nodes: FakeNode[];
  readonly calls: SeenCall[];
  repairScript: (request: { nodeId: string }, node: string) => AsyncIterable<RepairInit>;
  cleanupScript: (request: { nodeId: string }, node: string) => AsyncIterable<CleanupInit>;
  close(): Promise<void>;
}

export const defaultRepairScript = async function* (
  request: { nodeId: string },
  node: string,
): AsyncGenerator<RepairInit> {
  const nodeId = request.nodeId === "" ? node : request.nodeId;
  const base = { nodeId, rangesTotal: 2, peersFailed: 0, treeBytes: 900n };
  yield { ...base, rangesCompared: 0, peersCompared: 0 };
  yield { ...base, rangesCompared: 1, peersCompared: 2, keysRepaired: 3n, bytesExchanged: 2048n };
  yield { ...base, rangesCompared: 2, peersCompared: 4, keysRepaired: 5n, bytesExchanged: 4096n };
  yield {
    ...base,
    rangesCompared: 2,
    peersCompared: 4,
    keysDiffering: 6n,
    keysRepaired: 5n,
    bytesExchanged: 4096n,
    tombstonesPurged: 1n,
    elapsedSeconds: 1.25,
    done: true,
  };
};

export const defaultCleanupScript = async function* (
  request: { nodeId: string },
  node: string,
): AsyncGenerator<CleanupInit> {
  const nodeId = request.nodeId === "" ? node : request.nodeId;
  yield {
    nodeId,
    keysScanned: 2048n,
    keysRemoved: 500n,
    bytesRemoved: 61_440n,
    elapsedSeconds: 0.5,
  };
  yield {
    nodeId,
    keysScanned: 4096n,
    keysRemoved: 1012n,
    bytesRemoved: 122_880n,
    elapsedSeconds: 1,
  };
  yield {
    nodeId,
    keysScanned: 4100n,
    keysRemoved: 1013n,
    bytesRemoved: 123_000n,
    elapsedSeconds: 1.25,
    done: true,
  };
};

export async function startFakeCluster(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  const ids = options.ids ?? ["node-1", "node-2", "node-3"];
  const handoverPolls = options.handoverPolls ?? 3;
  const gossipPolls = options.gossipPolls ?? 1;
  const dead = new Set(options.dead ?? []);
  const state = new Map<string, NodeState>(
    ids.map((id) => [id, dead.has(id) ? NodeState.DEAD : NodeState.ALIVE]),
  );
  const servers = new Map<
    string,
    { http: http2.Http2Server; sessions: Set<http2.ServerHttp2Session> }
  >();
  let leaving: string | undefined;
  let exiting = false;
  let handed = 0;
  let afterExitPolls = 0;
  const calls: SeenCall[] = [];
  const nodes: FakeNode[] = [];

  const stopNode = (id: string) => {
    const s = servers.get(id);
    const n = nodes.find((x) => x.id === id);
    if (s === undefined || n === undefined || !n.running) return;
    n.running = false;
    for (const session of s.sessions) session.destroy();
    s.http.close();
  };

  const cluster: FakeCluster = {
    nodes,
    calls,
    repairScript: defaultRepairScript,
    cleanupScript: defaultCleanupScript,
    async close() {
      for (const [id, s] of servers) {
        for (const session of s.sessions) session.destroy();
        const n = nodes.find((x) => x.id === id);
        if (n?.running) await new Promise<void>((resolve) => s.http.close(() => resolve()));
        if (n !== undefined) n.running = false;
      }
    },
  };

  const statusOf = (self: string) => {
    const streaming =
      self === leaving
        ? {
            kind: "decommission",
            keysScanned: BigInt(handed * 100),
            keysMoved: BigInt(handed * 40),
            bytesMoved: BigInt(handed * 4096),
            peersDone: handed,
            peersTotal: handoverPolls,
            elapsedSeconds: handed,
          }
        : undefined;
    return {
      nodeId: self,
      nodes: nodes.map((n) => ({ id: n.id, address: n.address, state: state.get(n.id)! })),
      totalNodes: nodes.length,
      ...(streaming === undefined ? {} : { streaming }),
    };
  };

  for (const id of ids) {
    const sessions = new Set<http2.ServerHttp2Session>();
    const http = http2.createServer(
      connectNodeAdapter({
        // The real server's limit: a CLI default above it would be refused there.
        maxTimeoutMs: DEFAULT_SERVER_MAX_TIMEOUT_MS,
        routes: (router) => {
          router.service(ClusterService, {
            status() {
              calls.push({ node: id, method: "status" });
              if (id === leaving) {
                if (exiting) throw new ConnectError(`${id} is shutting down`, Code.Unavailable);
                if (!options.stuck) handed = Math.min(handoverPolls, handed + 1);
                if (handed >= handoverPolls && !options.stuck) {
                  // Its last answer; then it exits (once the answer is on its way).
                  if (options.reportsLeftBeforeExit) state.set(id, NodeState.LEFT);
                  exiting = true;
                  setTimeout(() => stopNode(id), 50);
                }
                return statusOf(id);
              }
              if (leaving !== undefined && exiting) {
                if (afterExitPolls++ >= gossipPolls) state.set(leaving, NodeState.LEFT);
              }
              return statusOf(id);
            },
            decommission(req) {
              calls.push({ node: id, method: "decommission", nodeId: req.nodeId });
              const target = req.nodeId === "" ? id : req.nodeId;
              if (!state.has(target)) {
                throw new ConnectError(`unknown node ${JSON.stringify(target)}`, Code.NotFound);
              }
              if (nodes.length === 1) {
                throw new ConnectError(
                  `${target} is the only node of the ring: there is nobody to hand its data to`,
                  Code.FailedPrecondition,
                );
              }
              leaving = target;
              state.set(target, NodeState.LEAVING);
              return { nodeId: target };
            },
            async *repair(req) {
              calls.push({ node: id, method: "repair", nodeId: req.nodeId });
              yield* cluster.repairScript(req, id);
            },
            async *cleanup(req) {
              calls.push({ node: id, method: "cleanup", nodeId: req.nodeId });
              if (req.nodeId !== "" && !state.has(req.nodeId)) {
                throw new ConnectError(`unknown node ${JSON.stringify(req.nodeId)}`, Code.NotFound);
              }
              yield* cluster.cleanupScript(req, id);
            },
            removeNode(req) {
              calls.push({ node: id, method: "removeNode", nodeId: req.nodeId });
              const target = req.nodeId;
              if (target === "" || target === id) {
                throw new ConnectError(
                  "remove_node needs the id of another node (a live node leaves with decommission)",
                  Code.InvalidArgument,
                );
              }
              const current = state.get(target);
              if (current === undefined) {
                throw new ConnectError(`unknown node ${JSON.stringify(target)}`, Code.NotFound);
              }
              if (current !== NodeState.DEAD && current !== NodeState.LEFT) {
                throw new ConnectError(
                  `${target} is ${NodeState[current].toLowerCase()}: only a dead node can be removed; decommission a live node`,
                  Code.FailedPrecondition,
                );
              }
              state.set(target, NodeState.LEFT);
              return { nodeId: target };
            },
          });
        },
      }),
    );
    http.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(0, "127.0.0.1", resolve);
    });
    const port = (http.address() as AddressInfo).port;
    servers.set(id, { http, sessions });
    nodes.push({ id, address: `127.0.0.1:${port}`, running: true });
  }
  // A dead node keeps its address in the membership but does not answer.
  for (const id of dead) stopNode(id);
  return cluster;
}
