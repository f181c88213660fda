import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { Gossip, type Member } from "@distkv/gossip";
import { isLockedError } from "@distkv/lsm";
import {
  type Clock,
  Coordinator,
  HintedHandoff,
  type QuorumLogger,
  QuorumStats,
  Replica,
  systemClock,
} from "@distkv/quorum";
import {
  type BatchRequest,
  type BatchResult,
  ClusterService,
  createDistKVClient,
  createDistKVServer,
  createPipelineHandler,
  DEFAULT_SERVER_MAX_TIMEOUT_MS,
  type DistKVServer,
  FaultService,
  KVService,
  messageOf,
  NodeState,
  registerPeerService,
} from "@distkv/rpc";
import { AntiEntropy } from "./anti-entropy.js";
import type { ServerConfig } from "./config.js";
import { type LinkFaultRule, LinkFaults } from "./faults.js";
import { PeerGossipTransport } from "./gossip-transport.js";
import { type CleanupProgress, Handover, WriteTracker } from "./handover.js";
import type { Logger } from "./log.js";
import { ClusterMembership, encodeNodeMetadata } from "./membership.js";
import { NodeMetrics } from "./metrics.js";
import { readNodeState, type NodeState as StoredNodeState } from "./node-state.js";
import { PeerPool } from "./peers.js";
import { type CallScope, RequestHandler, rethrowAsConnectValue } from "./requests.js";
import { NodeStorage } from "./storage.js";

/** Most operations one Batch call may carry. */
export const MAX_BATCH_OPERATIONS = 1000;
/** Batch operations run at once. */
const BATCH_CONCURRENCY = 32;
/** Wait between two attempts to reach the seeds. */
const JOIN_RETRY_MS = 1000;
/**
 * Dead members stay on the ring (failure is not removal) and in gossip this long; past it a
 * dead node is forgotten and its ranges move to the others without streaming, so a node down
 * for longer must be brought back with a fresh id (see the README on replacing nodes).
 */
const DEAD_RETENTION_MS = 7 * 24 * 3600 * 1000;

const MiB = 1024 * 1024;

/** The largest peer call frame: a sibling set of a few maximal values, and at least 4 MiB. */
function peerFrameBytes(config: ServerConfig): number {
  return Math.max(4 * MiB, 4 * (config.maxValueBytes + config.maxKeyBytes) + 64 * 1024);
}

/**
 * Size limits and memory budgets of the one port (see @distkv/rpc's README): client requests
 * are capped near the largest value; peer traffic (replication, hints, hand-over,
 * anti-entropy) gets its own, larger budgets, so clients exhausting theirs never block it.
 */
function trafficLimits(config: ServerConfig) {
  const clientMessage = config.maxValueBytes + config.maxKeyBytes + 64 * 1024;
  const peerMessage = Math.max(16 * MiB, peerFrameBytes(config) + 64 * 1024);
  return {
    readMaxBytes: clientMessage,
    maxConnectionInFlightBytes: Math.max(32 * MiB, 4 * clientMessage),
    maxInFlightBytes: Math.max(256 * MiB, 16 * clientMessage),
    peer: {
      readMaxBytes: peerMessage,
      maxConnectionInFlightBytes: Math.max(256 * MiB, 4 * peerMessage),
      maxInFlightBytes: Math.max(512 * MiB, 8 * peerMessage),
    },
  };
}

export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** A mux call's scope: its deadline, and no signal (see CallScope). */
function muxScope(ctx: { readonly timeoutMs: number }): CallScope {
  return { timeoutMs: ctx.timeoutMs };
}

function scopeOf(ctx: HandlerContext): CallScope {
  return { signal: ctx.signal, timeoutMs: ctx.timeoutMs() };
}

const STATE_OF: Record<Member["status"], NodeState> = {
  normal: NodeState.ALIVE,
  joining: NodeState.JOINING,
  leaving: NodeState.LEAVING,
  suspect: NodeState.SUSPECT,
  dead: NodeState.DEAD,
  left: NodeState.LEFT,
};

/** A DistKV node: storage, gossip membership, ring, coordinator, hand-overs and the one-port server. */
export class DistKVNode {
  private stopping: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private leftResolve!: () => void;
  /** Resolves when this node has been decommissioned and has left the cluster. */
  readonly left = new Promise<void>((resolve) => {
    this.leftResolve = resolve;
  });

  private constructor(
    readonly config: ServerConfig,
    readonly address: string,
    private readonly log: Logger,
    private readonly storage: NodeStorage,
    private readonly server: DistKVServer,
    private readonly parts: Parts,
    private readonly stored: StoredNodeState | undefined,
  ) {}

  static async start(config: ServerConfig, log: Logger): Promise<DistKVNode> {
    let storage: NodeStorage;
    try {
      storage = await NodeStorage.open(config);
    } catch (e) {
      if (isLockedError(e)) {
        throw new StartupError(
          `data dir ${config.dataDir} is in use by another process (${messageOf(e)})`,
        );
      }
      throw new StartupError(`cannot open data dir ${config.dataDir}: ${messageOf(e)}`);
    }
    let stored: StoredNodeState | undefined;
    try {
      stored = await readNodeState(config.dataDir);
    } catch (e) {
      await storage.close();
      throw new StartupError(`cannot read the node state: ${messageOf(e)}`);
    }
    if (stored?.phase === "left") {
      await storage.close();
      throw new StartupError(
        `node ${config.nodeId} was decommissioned and left the cluster; start a new node with an empty data dir (and a new id) instead`,
      );
    }

    // The routes exist before the parts that serve them: with port 0 (tests) the address that
    // gossip announces is only known once the server listens. Nothing is served in between.
    const holder: { parts?: Parts } = {};
    const server = createDistKVServer({
      host: config.host === "localhost" ? "127.0.0.1" : config.host,
      port: config.port,
      routes: routesFor(config, holder),
      ...trafficLimits(config),
      onError: (err) => log.debug("connection error", { error: messageOf(err) }),
    });
    let port: number;
    try {
      port = await server.start();
    } catch (e) {
      await storage.close();
      throw new StartupError(`cannot listen on ${config.address}: ${messageOf(e)}`);
    }
    const address = config.port === 0 ? `${config.host}:${port}` : config.address;
    const parts = compose(config, log, storage, address, stored);
    holder.parts = parts;
    const node = new DistKVNode(config, address, log, storage, server, parts, stored);
    parts.runDecommission = () => node.runDecommission();
    parts.gossip.start();
    parts.handoff.start();
    parts.antiEntropy.start();
    void node.joinCluster();
    return node;
  }

  /** The node's own view, for tests and embedding. */
  get phase(): Member["phase"] {
    return this.parts.gossip.localMember.phase;
  }

  /** Contacts the seeds until one answers, then streams in data if this node is new. */
  private async joinCluster(): Promise<void> {
    const { gossip, membership, handover } = this.parts;
    const { seedNodes, replicas, writeQuorum, readQuorum } = this.config;
    const signal = this.stopController.signal;
    try {
      if (seedNodes.length > 0) {
        for (let attempt = 1; ; attempt++) {
          try {
            const reached = await gossip.join(seedNodes, { signal });
            this.log.info("joined the cluster through its seeds", {
              seedsReached: reached,
              members: gossip.members().length,
            });
            break;
          } catch (e) {
            if (signal.aborted) return;
            if (attempt === 1 || attempt % 10 === 0) {
              this.log.warn("no seed node answered yet; retrying", {
                seeds: seedNodes.join(","),
                attempts: attempt,
                error: messageOf(e),
              });
            }
            await new Promise((r) => setTimeout(r, JOIN_RETRY_MS));
          }
        }
      } else if (replicas > 1 && this.stored === undefined) {
        this.log.warn(
          `no seed nodes: this node is a cluster of one until others join; writes need ${writeQuorum} and reads ${readQuorum} live replicas`,
        );
      }
      if (signal.aborted) return;
      if (gossip.localMember.phase === "joining") {
        if (membership.ring().size === 0) {
          // Nobody holds data yet (a new cluster starting): nothing to stream.
          gossip.setPhase("normal");
          await handover.saveNormal();
          this.log.info("no node holds data yet: this node is normal at once");
        } else {
          await handover.join();
        }
      } else if (gossip.localMember.phase === "leaving") {
        this.log.info("resuming the decommission that was in progress");
        this.parts.startDecommission();
      } else if (this.stored === undefined) {
        await handover.saveNormal();
      }
    } catch (e) {
      if (signal.aborted) return;
      this.log.error("joining the cluster failed; the node stays out of the ring", {
        error: messageOf(e),
      });
    }
  }

  /** Runs the decommission (through `parts.startDecommission`, once). */
  async runDecommission(): Promise<void> {
    try {
      await this.parts.handover.decommission();
      this.log.info("decommissioned: this node has left the cluster");
      this.leftResolve();
    } catch (e) {
      if (this.stopController.signal.aborted) return;
      this.log.error("decommission failed; the node stays leaving", { error: messageOf(e) });
    }
  }

  /** Stops accepting, lets in-flight requests finish, hands nothing more off, and closes storage. */
  stop(gracePeriodMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      this.stopController.abort(new Error("the node is stopping"));
      this.parts.handover.stop();
      await this.server.stop({ gracePeriodMs });
      this.parts.coordinator.stop();
      await this.parts.handoff.stop();
      await this.parts.antiEntropy.stop();
      this.parts.gossip.stop();
      this.parts.membership.close();
      await this.parts.peers.close();
      await this.storage.close();
    })();
    return this.stopping;
  }
}

type Parts = ReturnType<typeof compose>;

function compose(
  config: ServerConfig,
  log: Logger,
  storage: NodeStorage,
  address: string,
  stored: StoredNodeState | undefined,
) {
  const quorumLog: QuorumLogger = log.forComponent("distkv:quorum");
  const clusterLog = log.forComponent("distkv:cluster");

  // Gossip, membership and the peer pool refer to each other; the closures below are only
  // called once all three exist.
  let peers: PeerPool;
  let membership: ClusterMembership;
  const transport = new PeerGossipTransport(
    (a) => peers.forAddress(a),
    config.nodeId,
    config.requestTimeoutMs,
    (id) => membership.heard(id),
  );
  const gossip = new Gossip({
    id: config.nodeId,
    address,
    transport,
    config: { deadRetentionMs: DEAD_RETENTION_MS },
    logger: clusterLog,
    metadata: encodeNodeMetadata({ virtualNodes: config.virtualNodes }),
    // A new node with seeds joins (streams its ranges in); one without seeds starts a cluster;
    // a restarted node keeps the phase it had (a hand-over in progress resumes).
    phase:
      stored === undefined || stored.phase === "left"
        ? config.seedNodes.length > 0
          ? "joining"
          : "normal"
        : stored.phase,
  });
  membership = new ClusterMembership(gossip, config.replicas, (msg, fields) =>
    clusterLog.info(msg, fields),
  );
  const faults = config.enableFaultInjection ? new LinkFaults() : undefined;
  peers = new PeerPool(membership, config.nodeId, peerFrameBytes(config), faults);
  if (faults !== undefined) {
    log.warn("fault injection is enabled (--enable-fault-injection): for tests only");
  }
  const offset = config.clockOffsetMs;
  const clock: Clock =
    offset === 0
      ? systemClock
      : { nowMs: () => Date.now() + offset, schedule: systemClock.schedule };

  const stats = new QuorumStats();
  const coordinator = new Coordinator({
    clock,
    ring: () => membership.ring(),
    pendingReplicas: (key) => membership.pendingReplicas(key),
    membership,
    store: storage,
    transport: peers,
    stats,
    logger: quorumLog,
    options: {
      replicas: config.replicas,
      readQuorum: config.readQuorum,
      writeQuorum: config.writeQuorum,
      timeoutMs: config.requestTimeoutMs,
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
      conflictPolicy: config.conflictPolicy,
      readAllShare: config.readAllShare,
      // Purging tombstones forgets a key's counters: take them from the clock instead.
      timestampCounters: config.tombstoneGraceMs > 0,
    },
  });
  const replica = new Replica({
    localId: config.nodeId,
    store: storage,
    hintStore: storage,
    stats,
    logger: quorumLog,
    clock,
    options: { maxKeyBytes: config.maxKeyBytes },
  });
  const handoff = new HintedHandoff({
    membership,
    hintStore: storage,
    transport: peers,
    stats,
    logger: quorumLog,
    clock,
    options: { maxAgeMs: config.hintMaxAgeMs },
  });
  const writes = new WriteTracker();
  const metrics = new NodeMetrics();
  const requests = new RequestHandler(
    coordinator,
    membership,
    peers,
    metrics,
    config.requestTimeoutMs,
    log.forComponent("distkv:requests"),
    writes,
  );
  const handover = new Handover(
    {
      localId: config.nodeId,
      dataDir: config.dataDir,
      replicas: config.replicas,
      requestTimeoutMs: config.requestTimeoutMs,
      rateBytesPerSecond: config.streamRateBytesPerSecond,
      gossip,
      membership,
      peers,
      storage,
      writes,
      log: clusterLog,
    },
    stored,
  );
  // Tombstone GC: on with a grace period (default 1 day; 0 turns it off). Hints expire within
  // it (config checks hintMaxAgeMs < tombstoneGraceMs), so none can bring a purged value back;
  // with GC on, dots take clock-based counters (a purged key forgets its counters).
  const antiEntropy = new AntiEntropy(
    {
      cluster: {
        localId: config.nodeId,
        replicas: config.replicas,
        ring: () => membership.ring(),
        isAlive: (id) => membership.isAlive(id),
        isStable: () => !membership.moving,
      },
      store: {
        scan: async (after, max) => {
          const page = await storage.scanData(
            after,
            { maxBytes: Number.MAX_SAFE_INTEGER, maxScanned: max },
            () => true,
          );
          return { entries: page.entries, done: page.done };
        },
        read: (key) => storage.readEncoded(key),
        merge: (key, bytes) => storage.mergeEncoded(key, bytes),
        purge: (key, expected) => storage.purgeIfUnchanged(key, expected),
      },
      peers: {
        call: (id, kind, req, o) => peers.observe(id, peers.forNode(id).call(kind, req, o)),
      },
    },
    {
      intervalMs: config.antiEntropyIntervalMs,
      tombstoneGraceMs:
        config.tombstoneGraceMs === 0 ? Number.MAX_SAFE_INTEGER : config.tombstoneGraceMs,
      now: () => clock.nowMs(),
      logger: log.forComponent("distkv:anti-entropy"),
    },
  );
  storage.onDataWrite = (key, stored, set) => antiEntropy.recordWrite(key, stored, set);
  membership.onRingChange(() => antiEntropy.ringChanged());
  let decommissioning: Promise<void> | undefined;
  const parts = {
    antiEntropy,
    gossip,
    membership,
    peers,
    coordinator,
    handoff,
    handover,
    requests,
    replica,
    metrics,
    storage,
    transport,
    faults,
    log: clusterLog,
    /** Set by the node: runs the decommission in the background. */
    runDecommission: undefined as (() => Promise<void>) | undefined,
    startDecommission(): void {
      if (decommissioning !== undefined) return;
      if (gossip.localMember.phase === "joining") {
        throw new ConnectError(
          `${config.nodeId} is still joining; decommission it once it is normal`,
          Code.FailedPrecondition,
        );
      }
      const others = membership
        .ring()
        .nodes()
        .filter((id) => id !== config.nodeId);
      if (others.length === 0) {
        throw new ConnectError(
          `${config.nodeId} is the only node of the ring: there is nobody to hand its data to`,
          Code.FailedPrecondition,
        );
      }
      decommissioning = parts.runDecommission?.() ?? Promise.resolve();
    },
  };
  return parts;
}

/** Every service of the node's one port, served by `holder.parts` once the node has started. */
function routesFor(config: ServerConfig, holder: { parts?: Parts }) {
  const get = (): Parts => {
    if (holder.parts === undefined) {
      throw new ConnectError(`${config.nodeId} is starting`, Code.Unavailable);
    }
    return holder.parts;
  };

  const batch = async (req: BatchRequest, ctx: HandlerContext) => {
    const { requests } = get();
    if (req.operations.length > MAX_BATCH_OPERATIONS) {
      throw new ConnectError(
        `a batch may carry at most ${MAX_BATCH_OPERATIONS} operations, got ${req.operations.length}`,
        Code.InvalidArgument,
      );
    }
    const scope = scopeOf(ctx);
    const results: BatchResult[] = new Array(req.operations.length);
    let next = 0;
    const worker = async () => {
      while (next < req.operations.length) {
        const i = next++;
        const op = req.operations[i]!.op;
        try {
          if (op.case === "put") {
            op.value.options ??= req.options;
            const r = await requests.put(op.value, scope);
            results[i] = { ok: true, context: r.context ?? new Uint8Array() } as BatchResult;
          } else if (op.case === "delete") {
            op.value.options ??= req.options;
            const r = await requests.delete(op.value, scope);
            results[i] = { ok: true, context: r.context ?? new Uint8Array() } as BatchResult;
          } else {
            throw new ConnectError(
              "batch operation has neither put nor delete",
              Code.InvalidArgument,
            );
          }
        } catch (e) {
          const err = rethrowAsConnectValue(e);
          results[i] = {
            ok: false,
            errorCode: Code[err.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(),
            errorMessage: err.rawMessage,
            context: new Uint8Array(),
          } as BatchResult;
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(BATCH_CONCURRENCY, req.operations.length) }, worker),
    );
    return { results };
  };

  const status = () => {
    const { gossip, membership, metrics, storage, handover } = get();
    const members = gossip.members();
    const placed = members.filter((m) => m.status !== "left");
    const alive = placed.filter((m) => m.status !== "dead" && m.status !== "suspect").length;
    const suspect = placed.filter((m) => m.status === "suspect").length;
    const m = metrics.snapshot();
    const p = handover.progress;
    return {
      nodeId: config.nodeId,
      nodes: members.map((n) => ({
        id: n.id,
        address: n.address,
        state: STATE_OF[n.status],
        lastSeenMs: BigInt(membership.lastSeenMs(n.id)),
        incarnation: BigInt(n.incarnation),
      })),
      totalNodes: placed.length,
      aliveNodes: alive + suspect,
      deadNodes: placed.length - alive - suspect,
      availabilityPercent: placed.length === 0 ? 0 : (100 * (alive + suspect)) / placed.length,
      replicas: config.replicas,
      readQuorum: config.readQuorum,
      writeQuorum: config.writeQuorum,
      virtualNodes: config.virtualNodes,
      metrics: {
        requestsTotal: BigInt(m.requestsTotal),
        requestsFailed: BigInt(m.requestsFailed),
        latencyAvgMs: m.latencyAvgMs,
        latencyP50Ms: m.latencyP50Ms,
        latencyP99Ms: m.latencyP99Ms,
        uptimeSeconds: BigInt(m.uptimeSeconds),
        hintsPending: BigInt(storage.size),
        storageBytes: BigInt(storage.storageBytes()),
      },
      ...(p === undefined
        ? {}
        : {
            streaming: {
              kind: p.kind,
              keysScanned: BigInt(p.keysScanned),
              keysMoved: BigInt(p.keysMoved),
              bytesMoved: BigInt(p.bytesMoved),
              keysEstimated: 0n,
              peersDone: p.peersDone,
              peersTotal: p.peersTotal,
              elapsedSeconds: ((p.finishedAtMs ?? Date.now()) - p.startedAtMs) / 1000,
            },
          }),
    };
  };

  /** ClusterService.RemoveNode: marks a node this node sees dead as left, for good. */
  const removeNode = (req: { nodeId: string }) => {
    const { gossip, log } = get();
    const target = req.nodeId;
    if (target === "" || target === config.nodeId) {
      throw new ConnectError(
        "remove_node needs the id of another node (a live node leaves with decommission)",
        Code.InvalidArgument,
      );
    }
    const member = gossip.member(target);
    if (member === undefined) {
      throw new ConnectError(`unknown node ${JSON.stringify(target)}`, Code.NotFound);
    }
    if (member.status === "left") return { nodeId: target };
    if (member.status !== "dead") {
      throw new ConnectError(
        `node ${target} is ${member.status === "suspect" ? "suspect" : "alive"} as ${config.nodeId} sees it: only a dead node can be removed; decommission a live node`,
        Code.FailedPrecondition,
      );
    }
    if (!gossip.removeDead(target)) {
      throw new ConnectError(`node ${target} changed state; retry`, Code.FailedPrecondition);
    }
    log.warn("removed a dead node: it is left everywhere, its ranges move to the others", {
      node: target,
    });
    return { nodeId: target };
  };

  const decommission = async (req: { nodeId: string }) => {
    const { gossip, membership } = get();
    const target = req.nodeId === "" ? config.nodeId : req.nodeId;
    if (target === config.nodeId) {
      get().startDecommission();
      return { nodeId: target };
    }
    const member = gossip.member(target);
    if (member === undefined || member.status === "left") {
      throw new ConnectError(`unknown node ${JSON.stringify(target)}`, Code.NotFound);
    }
    if (!membership.isAlive(target)) {
      throw new ConnectError(
        `node ${target} is ${member.status}: only a live node can hand its data over`,
        Code.FailedPrecondition,
      );
    }
    const client = createDistKVClient({ baseUrl: member.address });
    try {
      return await client.cluster.decommission(
        { nodeId: target },
        { timeoutMs: config.requestTimeoutMs },
      );
    } finally {
      client.close();
    }
  };

  /** ClusterService.Cleanup: runs here, or relays the stream of the node asked for. */
  async function* cleanup(req: { nodeId: string }, ctx: HandlerContext) {
    const { gossip, membership, handover } = get();
    const target = req.nodeId === "" ? config.nodeId : req.nodeId;
    if (target === config.nodeId) {
      for await (const p of handover.cleanup(ctx.signal)) yield { nodeId: target, ...toWire(p) };
      return;
    }
    const member = gossip.member(target);
    if (member === undefined || member.status === "left") {
      throw new ConnectError(`unknown node ${JSON.stringify(target)}`, Code.NotFound);
    }
    if (!membership.isAlive(target)) {
      throw new ConnectError(`node ${target} is ${member.status}`, Code.FailedPrecondition);
    }
    const client = createDistKVClient({ baseUrl: member.address });
    try {
      // The caller's deadline, not the client's 5 s default: a cleanup scans the node's data.
      // Without one, the most a node accepts.
      yield* client.cluster.cleanup(
        { nodeId: target },
        { signal: ctx.signal, timeoutMs: ctx.timeoutMs() ?? DEFAULT_SERVER_MAX_TIMEOUT_MS },
      );
    } finally {
      client.close();
    }
  }
  const toWire = (p: CleanupProgress) => ({
    keysScanned: BigInt(p.keysScanned),
    keysRemoved: BigInt(p.keysRemoved),
    bytesRemoved: BigInt(p.bytesRemoved),
    elapsedSeconds: p.elapsedSeconds,
    done: p.done,
  });

  return (router: ConnectRouter) => {
    router.service(KVService, {
      put: (req, ctx) => get().requests.put(req, scopeOf(ctx)),
      get: (req, ctx) => get().requests.get(req, scopeOf(ctx)),
      delete: (req, ctx) => get().requests.delete(req, scopeOf(ctx)),
      batch,
      pipeline: createPipelineHandler({
        put: (req, ctx) => get().requests.put(req, muxScope(ctx)),
        get: (req, ctx) => get().requests.get(req, muxScope(ctx)),
        delete: (req, ctx) => get().requests.delete(req, muxScope(ctx)),
      }),
    });
    router.service(ClusterService, {
      status,
      decommission,
      repair: (req, ctx) => get().antiEntropy.repair(req, ctx.signal),
      cleanup,
      removeNode,
    });
    if (config.enableFaultInjection) {
      router.service(FaultService, {
        setLinkFaults: (req) => {
          const faults = get().faults!;
          faults.set(
            new Map<string, LinkFaultRule>(
              req.faults.map((f) => [
                f.nodeId,
                { dropProbability: f.dropProbability, delayMs: f.delayMs },
              ]),
            ),
          );
          return { droppedTotal: BigInt(faults.dropped), delayedTotal: BigInt(faults.delayed) };
        },
      });
    }
    registerPeerService(
      router,
      {
        // No signal for the store: NodeStorage's calls are short and take none (a signal per
        // call, made on demand by the mux server, was the top item of a node's profile).
        replicaWrite: async (req) => {
          await get().replica.write(req.key, req.siblings, { hintFor: req.hintTargetNodeId });
          return {};
        },
        replicaRead: async (req) => {
          const bytes = await get().replica.readEncoded(req.key);
          return bytes === undefined ? { found: false } : { found: true, siblings: bytes };
        },
        gossip: (req) => get().transport.handle(req),
        streamRange: (req) => get().handover.serveStreamRange(req),
        merkleExchange: (req) => get().antiEntropy.serveMerkleExchange(req),
        tombstoneCheck: (req) => get().antiEntropy.serveTombstoneCheck(req),
        tombstonePurge: (req) => get().antiEntropy.serveTombstonePurge(req),
        repair: (req) => get().antiEntropy.serveRepair(req),
        coordinate: async (req, ctx) => {
          const { requests } = get();
          const scope = muxScope(ctx);
          switch (req.op.case) {
            case "put":
              return {
                result: { case: "put", value: await requests.put(req.op.value, scope, true) },
              };
            case "delete":
              return {
                result: {
                  case: "delete",
                  value: await requests.delete(req.op.value, scope, true),
                },
              };
            case "get":
              return { result: { case: "get", value: await requests.get(req.op.value, scope) } };
            default:
              throw new ConnectError("coordinate call without an operation", Code.InvalidArgument);
          }
        },
      },
      { nodeId: config.nodeId },
    );
  };
}
