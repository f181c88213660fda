import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  Coordinator,
  GetResult,
  RequestOptions as QuorumRequestOptions,
  WriteResult,
} from "@distkv/quorum";
import type { GetResponseSchema, PutResponseSchema } from "@distkv/rpc";
import {
  ConflictPolicy,
  Consistency,
  codeOf,
  type DeleteRequest,
  type DeleteResponse,
  type GetRequest,
  type GetResponse,
  messageOf,
  type PutRequest,
  type PutResponse,
  type RequestOptions,
} from "@distkv/rpc";
import type { WriteTracker } from "./handover.js";
import type { Logger } from "./log.js";
import type { ClusterMembership } from "./membership.js";
import type { NodeMetrics } from "./metrics.js";
import type { PeerPool } from "./peers.js";

export type PutInit = MessageInitShape<typeof PutResponseSchema>;
/** What put and delete answer (PutResponse and DeleteResponse have the same fields). */
export interface WriteAnswer {
  context: Uint8Array;
  replicasAcked: number;
}
export type GetInit = MessageInitShape<typeof GetResponseSchema>;

/** A write as it travels to the coordinator in a peer `coordinate` call. */
type WriteOp = { case: "put"; value: PutRequest } | { case: "delete"; value: DeleteRequest };

/** What a handler knows about the call it serves. */
export interface CallScope {
  /**
   * The caller's cancellation, when the transport already has one (unary Connect calls). Mux
   * calls pass none: creating a signal per call cost a tenth of a node's CPU, and their work
   * is bounded by `timeoutMs` anyway (a canceled mux call runs to its end or deadline).
   */
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds left until the client's deadline, if it sent one. */
  readonly timeoutMs: number | undefined;
}

const CONSISTENCY = {
  [Consistency.UNSPECIFIED]: undefined,
  [Consistency.ONE]: "one",
  [Consistency.QUORUM]: "quorum",
  [Consistency.ALL]: "all",
} as const;

const POLICY = {
  [ConflictPolicy.UNSPECIFIED]: undefined,
  [ConflictPolicy.SIBLINGS]: "siblings",
  [ConflictPolicy.LWW]: "lww",
} as const;

/**
 * Serves the KV requests of this node: reads are coordinated here (any node may coordinate a
 * read); writes go to the key's coordinator (the first live replica), over the peer stream when
 * that is another node, so that sequential writes to a key take their dots from one replica.
 */
export class RequestHandler {
  constructor(
    private readonly coordinator: Coordinator,
    private readonly membership: ClusterMembership,
    private readonly peers: PeerPool,
    private readonly metrics: NodeMetrics,
    private readonly defaultTimeoutMs: number,
    private readonly log: Logger,
    private readonly writes: WriteTracker,
  ) {}

  put(req: PutRequest, scope: CallScope, forwarded = false): Promise<WriteAnswer> {
    return this.measure(() =>
      this.write({ case: "put", value: req }, scope, forwarded, (o) =>
        this.coordinator.put(req.key, req.value, withContext(o, req.context)),
      ),
    );
  }

  delete(req: DeleteRequest, scope: CallScope, forwarded = false): Promise<WriteAnswer> {
    return this.measure(() =>
      this.write({ case: "delete", value: req }, scope, forwarded, (o) =>
        this.coordinator.delete(req.key, withContext(o, req.context)),
      ),
    );
  }

  /**
   * Without `measure`'s async wrappers: a read is the hot path of a node, and each layer of
   * promise and closure was a visible share of its allocations.
   */
  get(req: GetRequest, scope: CallScope): Promise<GetInit> {
    const t0 = performance.now();
    let reading: Promise<GetResult>;
    try {
      reading = this.coordinator.get(req.key, this.quorumOptions(req.options, scope));
    } catch (e) {
      this.metrics.record(t0, false);
      return Promise.reject(rethrowAsConnectValue(e));
    }
    return reading.then(
      (r) => {
        this.metrics.record(t0, true);
        const siblings = new Array<{ value: Uint8Array; timestampMs: bigint }>(r.siblings.length);
        for (let i = 0; i < siblings.length; i++) {
          const s = r.siblings[i]!;
          siblings[i] = { value: s.value, timestampMs: BigInt(s.timestampMs) };
        }
        return {
          found: r.found,
          siblings,
          context: r.context,
          replicasAnswered: r.replicasAnswered,
        };
      },
      (e: unknown) => {
        this.metrics.record(t0, false);
        throw rethrowAsConnectValue(e);
      },
    );
  }

  private async write(
    op: WriteOp,
    scope: CallScope,
    forwarded: boolean,
    local: (o: QuorumRequestOptions) => Promise<WriteResult>,
  ): Promise<WriteAnswer> {
    const key = op.value.key;
    const qo = this.quorumOptions(op.value.options, scope);
    const deadline = performance.now() + (qo.timeoutMs ?? this.defaultTimeoutMs);
    // A forwarded request is coordinated here whatever this node thinks: no forwarding loops.
    // A replica of the key coordinates its writes itself (Dynamo: any of the top N may; the
    // dot comes from its own copy), which spares a hop: with N equal to the cluster size no
    // write is forwarded. Otherwise the first live replica coordinates; if forwarding to it
    // fails because it is unreachable, it is routed around for a moment and the next live
    // replica (maybe this node) is tried.
    const here = forwarded || this.coordinator.isReplica(key);
    for (let attempt = 0; ; attempt++) {
      const target = here ? this.membership.localId : this.coordinator.coordinatorFor(key);
      if (target === undefined || target === this.membership.localId || attempt >= 2) {
        const done = this.writes.begin();
        try {
          const r = await local(qo);
          return { context: r.context, replicasAcked: r.replicasAcked };
        } finally {
          done();
        }
      }
      const timeoutMs = Math.max(1, Math.floor(deadline - performance.now()));
      try {
        return await this.peers.observe(target, this.forward(target, op, timeoutMs, scope.signal));
      } catch (e) {
        if (codeOf(e) === Code.Unavailable && !this.membership.isAlive(target)) {
          this.log.debug("coordinator unreachable, rerouting", { target, error: messageOf(e) });
          continue;
        }
        throw e;
      }
    }
  }

  private async forward(
    target: string,
    op: WriteOp,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<WriteAnswer> {
    const res = await this.peers
      .forNode(target)
      .call("coordinate", { op }, signal === undefined ? { timeoutMs } : { timeoutMs, signal });
    if (res.result.case !== op.case) {
      throw new ConnectError(
        `coordinator answered a ${op.case} with ${res.result.case}`,
        Code.Internal,
      );
    }
    const { context, replicasAcked } = res.result.value;
    return { context, replicasAcked };
  }

  private quorumOptions(
    options: RequestOptions | undefined,
    scope: CallScope,
  ): QuorumRequestOptions {
    const o: QuorumRequestOptions = scope.signal === undefined ? {} : { signal: scope.signal };
    const consistency = CONSISTENCY[options?.consistency ?? Consistency.UNSPECIFIED];
    if (
      consistency === undefined &&
      options !== undefined &&
      !(options.consistency in CONSISTENCY)
    ) {
      throw new ConnectError(
        `unknown consistency level ${options.consistency}`,
        Code.InvalidArgument,
      );
    }
    if (consistency !== undefined) o.consistency = consistency;
    const policy = POLICY[options?.conflictPolicy ?? ConflictPolicy.UNSPECIFIED];
    if (policy === undefined && options !== undefined && !(options.conflictPolicy in POLICY)) {
      throw new ConnectError(
        `unknown conflict policy ${options.conflictPolicy}`,
        Code.InvalidArgument,
      );
    }
    if (policy !== undefined) o.conflictPolicy = policy;
    // The tighter of the client's own deadline header and the request's timeout_ms field.
    let t = Number.POSITIVE_INFINITY;
    if (options !== undefined && options.timeoutMs > 0) t = options.timeoutMs;
    if (scope.timeoutMs !== undefined && scope.timeoutMs > 0) t = Math.min(t, scope.timeoutMs);
    o.timeoutMs =
      t === Number.POSITIVE_INFINITY ? this.defaultTimeoutMs : Math.max(1, Math.floor(t));
    return o;
  }

  private async measure<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const result = await fn();
      this.metrics.record(t0, true);
      return result;
    } catch (e) {
      this.metrics.record(t0, false);
      throw rethrowAsConnectValue(e);
    }
  }
}

function withContext(o: QuorumRequestOptions, context: Uint8Array) {
  return context.length === 0 ? o : { ...o, context };
}

/** Maps @distkv/quorum and @distkv/rpc errors to Connect codes; only here, at the edge. */
export function rethrowAsConnectValue(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const name = e instanceof Error ? e.name : "";
  switch (name) {
    case "InvalidArgumentError":
      return new ConnectError(messageOf(e), Code.InvalidArgument, undefined, undefined, e);
    case "UnavailableError":
    case "NotCoordinatorError":
    case "HintQueueFullError":
      return new ConnectError(messageOf(e), Code.Unavailable, undefined, undefined, e);
    case "DeadlineExceededError":
      return new ConnectError(messageOf(e), Code.DeadlineExceeded, undefined, undefined, e);
    case "AbortedError":
      return new ConnectError(messageOf(e), Code.Canceled, undefined, undefined, e);
    default:
      return new ConnectError(messageOf(e), codeOf(e, Code.Internal), undefined, undefined, e);
  }
}

export type { DeleteResponse, GetResponse, PutResponse };
