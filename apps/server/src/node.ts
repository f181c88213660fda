import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { isLockedError } from "@distkv/lsm";
import {
  Coordinator,
  HintedHandoff,
  type QuorumLogger,
  QuorumStats,
  Replica,
} from "@distkv/quorum";
import { HashRing } from "@distkv/ring";
import {
  type BatchRequest,
  type BatchResult,
  type ClusterMember,
  ClusterService,
  createDistKVServer,
  createPipelineHandler,
  type DistKVServer,
  KVService,
  messageOf,
  NodeState,
  registerPeerService,
} from "@distkv/rpc";
import type { ServerConfig } from "./config.js";
import type { Logger } from "./log.js";
import { type MemberEndpoint, StaticMembership } from "./membership.js";
import { NodeMetrics } from "./metrics.js";
import { PeerPool } from "./peers.js";
import { type CallScope, RequestHandler, rethrowAsConnectValue } from "./requests.js";
import { NodeStorage } from "./storage.js";

/** How often members are pinged and member lists exchanged (until gossip replaces it). */
const PROBE_INTERVAL_MS = 1000;
/** A ping slower than this counts as a failure and marks the member down. */
const PROBE_TIMEOUT_MS = 1500;
/** Most operations one Batch call may carry. */
export const MAX_BATCH_OPERATIONS = 1000;
/** Batch operations run at once. */
const BATCH_CONCURRENCY = 32;

export class StartupError extends Error {
  override readonly name = "StartupError";
}

function scopeOf(ctx: HandlerContext): CallScope {
  return { signal: ctx.signal, timeoutMs: ctx.timeoutMs() };
}

/** A DistKV node: storage, ring, membership, coordinator and the one-port server. */
export class DistKVNode {
  private probeTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly address: string,
    private readonly log: Logger,
    private readonly storage: NodeStorage,
    private readonly server: DistKVServer,
    private readonly membership: StaticMembership,
    private readonly peers: PeerPool,
    private readonly coordinator: Coordinator,
    private readonly handoff: HintedHandoff,
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

    // With port 0 (tests) the advertised address is only known after listen(): setAddress().
    const built = DistKVNode.compose(config, log, storage);
    const server = createDistKVServer({
      host: config.host === "localhost" ? "127.0.0.1" : config.host,
      port: config.port,
      routes: built.routes,
      readMaxBytes: config.maxValueBytes + config.maxKeyBytes + 64 * 1024,
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
    built.setAddress(address);
    const node = new DistKVNode(
      config,
      address,
      log,
      storage,
      server,
      built.membership,
      built.peers,
      built.coordinator,
      built.handoff,
    );
    built.handoff.start();
    node.probeTimer = setInterval(() => void node.probe(), PROBE_INTERVAL_MS);
    void node.probe();
    if (config.seedNodes.length === 0 && config.replicas > 1) {
      log.warn(
        `no seed nodes: this node is a cluster of one until others join; writes need ${config.writeQuorum} and reads ${config.readQuorum} live replicas`,
      );
    }
    return node;
  }

  private static compose(config: ServerConfig, log: Logger, storage: NodeStorage) {
    let self: MemberEndpoint = {
      id: config.nodeId,
      address: config.address,
      virtualNodes: config.virtualNodes,
    };
    const membership = new StaticMembership(self);
    const ring = new HashRing({ virtualNodes: config.virtualNodes });
    ring.addNode(config.nodeId, { virtualNodes: config.virtualNodes });
    membership.onJoin((m) => {
      if (!ring.hasNode(m.id)) ring.addNode(m.id, { virtualNodes: m.virtualNodes });
      log.info("node joined", { node: m.id, address: m.address });
    });
    membership.subscribe((e) => log.info(`node ${e.type}`, { node: e.nodeId }));

    const quorumLog: QuorumLogger = log.forComponent("distkv:quorum");
    const stats = new QuorumStats();
    const peers = new PeerPool(membership, config.nodeId);
    const coordinator = new Coordinator({
      ring,
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
      },
    });
    const replica = new Replica({
      localId: config.nodeId,
      store: storage,
      hintStore: storage,
      stats,
      logger: quorumLog,
      options: { maxKeyBytes: config.maxKeyBytes },
    });
    const handoff = new HintedHandoff({
      membership,
      hintStore: storage,
      transport: peers,
      stats,
      logger: quorumLog,
    });
    const metrics = new NodeMetrics();
    const requests = new RequestHandler(
      coordinator,
      membership,
      peers,
      metrics,
      config.requestTimeoutMs,
      log.forComponent("distkv:requests"),
    );

    const toMember = (m: MemberEndpoint): ClusterMember =>
      ({ nodeId: m.id, address: m.address, virtualNodes: m.virtualNodes }) as ClusterMember;
    const fromMember = (m: {
      nodeId: string;
      address: string;
      virtualNodes: number;
    }): MemberEndpoint | undefined =>
      m.nodeId === "" || m.address === "" || m.virtualNodes < 1
        ? undefined
        : { id: m.nodeId, address: m.address, virtualNodes: m.virtualNodes };

    const batch = async (req: BatchRequest, ctx: HandlerContext) => {
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

    const metricsOf = () => {
      const m = metrics.snapshot();
      return {
        requestsTotal: BigInt(m.requestsTotal),
        requestsFailed: BigInt(m.requestsFailed),
        latencyAvgMs: m.latencyAvgMs,
        latencyP50Ms: m.latencyP50Ms,
        latencyP99Ms: m.latencyP99Ms,
        uptimeSeconds: BigInt(m.uptimeSeconds),
        hintsPending: BigInt(storage.size),
        storageBytes: BigInt(storage.storageBytes()),
      };
    };

    const routes = (router: ConnectRouter) => {
      router.service(KVService, {
        put: (req, ctx) => requests.put(req, scopeOf(ctx)),
        get: (req, ctx) => requests.get(req, scopeOf(ctx)),
        delete: (req, ctx) => requests.delete(req, scopeOf(ctx)),
        batch,
        pipeline: createPipelineHandler({
          put: (req, ctx) => requests.put(req, ctx),
          get: (req, ctx) => requests.get(req, ctx),
          delete: (req, ctx) => requests.delete(req, ctx),
        }),
      });
      router.service(ClusterService, {
        status: () => {
          const members = membership.list();
          const alive = members.filter((m) => m.state === "alive").length;
          return {
            nodeId: config.nodeId,
            nodes: members.map((m) => ({
              id: m.id,
              address: m.address,
              state: m.state === "alive" ? NodeState.ALIVE : NodeState.DEAD,
              lastSeenMs: BigInt(m.id === config.nodeId ? Date.now() : m.lastSeenMs),
              incarnation: 0n,
            })),
            totalNodes: members.length,
            aliveNodes: alive,
            deadNodes: members.length - alive,
            availabilityPercent: (100 * alive) / members.length,
            replicas: config.replicas,
            readQuorum: config.readQuorum,
            writeQuorum: config.writeQuorum,
            virtualNodes: config.virtualNodes,
            metrics: metricsOf(),
          };
        },
      });
      registerPeerService(
        router,
        {
          replicaWrite: async (req, ctx) => {
            await replica.write(req.key, req.siblings, {
              hintFor: req.hintTargetNodeId,
              signal: ctx.signal,
            });
            return {};
          },
          replicaRead: async (req, ctx) => {
            const bytes = await replica.readEncoded(req.key, { signal: ctx.signal });
            return bytes === undefined ? { found: false } : { found: true, siblings: bytes };
          },
          hello: (req) => {
            const sender = req.sender === undefined ? undefined : fromMember(req.sender);
            if (sender !== undefined && sender.id !== config.nodeId) membership.learn(sender, true);
            for (const m of req.members) {
              const e = fromMember(m);
              if (e !== undefined && e.id !== config.nodeId) membership.learn(e, false);
            }
            return { receiver: toMember(self), members: membership.endpoints().map(toMember) };
          },
          coordinate: async (req, ctx) => {
            const scope = { signal: ctx.signal, timeoutMs: ctx.timeoutMs };
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
                throw new ConnectError(
                  "coordinate call without an operation",
                  Code.InvalidArgument,
                );
            }
          },
        },
        { nodeId: config.nodeId },
      );
    };

    return {
      routes,
      membership,
      peers,
      coordinator,
      handoff,
      setAddress(address: string) {
        self = { ...self, address };
        membership.setLocalAddress(address);
      },
    };
  }

  /** One round of liveness checks and member-list exchange with seeds and members. */
  private async probe(): Promise<void> {
    if (this.stopping !== undefined) return;
    const self = this.membership.get(this.config.nodeId)!;
    const hello = {
      sender: { nodeId: self.id, address: self.address, virtualNodes: self.virtualNodes },
      members: this.membership
        .endpoints()
        .map((m) => ({ nodeId: m.id, address: m.address, virtualNodes: m.virtualNodes })),
    };
    const known = new Set(this.membership.list().map((m) => m.address));
    const targets = new Set<string>();
    for (const seed of this.config.seedNodes) if (!known.has(seed)) targets.add(seed);
    for (const m of this.membership.list()) if (m.id !== self.id) targets.add(m.address);
    await Promise.allSettled(
      [...targets].map(async (address) => {
        const member = this.membership.list().find((m) => m.address === address);
        try {
          const res = await this.peers
            .forAddress(address)
            .call("hello", hello, { timeoutMs: PROBE_TIMEOUT_MS });
          const r = res.receiver;
          if (r !== undefined && r.nodeId !== "" && r.nodeId !== self.id) {
            this.membership.learn({ id: r.nodeId, address, virtualNodes: r.virtualNodes }, true);
          }
          for (const m of res.members) {
            if (m.nodeId !== self.id && m.nodeId !== "" && m.address !== "" && m.virtualNodes > 0) {
              this.membership.learn(
                { id: m.nodeId, address: m.address, virtualNodes: m.virtualNodes },
                false,
              );
            }
          }
        } catch (e) {
          if (member !== undefined) this.membership.markDown(member.id);
          this.log.debug("probe failed", { address, error: messageOf(e) });
        }
      }),
    );
  }

  /** Stops accepting, lets in-flight requests finish, hands nothing more off, and closes storage. */
  stop(gracePeriodMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
      await this.server.stop({ gracePeriodMs });
      this.coordinator.stop();
      await this.handoff.stop();
      await this.peers.close();
      await this.storage.close();
    })();
    return this.stopping;
  }
}
