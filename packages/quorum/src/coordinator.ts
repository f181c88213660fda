import type { HashRing } from "@distkv/ring";
import {
  type Codec,
  createCodec,
  isInvalidContextError,
  isLimitExceededError,
  type VersionVector,
} from "@distkv/vclock";
import { type Clock, systemClock } from "./clock.js";
import { replicasNeeded } from "./consistency.js";
import type { CoordinatorCore } from "./core.js";
import { describe } from "./describe.js";
import { AbortedError, InvalidArgumentError, InvalidQuorumOptionsError } from "./errors.js";
import { keyBytes, type QuorumKey } from "./key.js";
import { KeyLock } from "./key-lock.js";
import { type QuorumLogger, silentLogger } from "./logger.js";
import type { MembershipView } from "./membership-view.js";
import { type QuorumOptions, type ResolvedQuorumOptions, resolveQuorumOptions } from "./options.js";
import { runRead } from "./read-path.js";
import type { ReplicaStore } from "./replica-store.js";
import type { ReplicaTransport } from "./replica-transport.js";
import {
  checkRequestOptions,
  type GetResult,
  type RequestOptions,
  type WriteOptions,
  type WriteResult,
} from "./request.js";
import { RequestScope } from "./request-scope.js";
import { QuorumStats, type QuorumStatsSnapshot } from "./stats.js";
import { runWrite } from "./write-path.js";

const NO_PENDING: readonly string[] = Object.freeze([]);

export interface CoordinatorInit {
  /**
   * The ring, or a function returning the current one (when membership changes replace it).
   * Read at the start of every request.
   */
  ring: HashRing | (() => HashRing);
  /**
   * The nodes that are taking over `key` but are not yet among its replicas on `ring`: a node
   * joining the ring, or the next node on the ring when a replica is leaving (Cassandra's
   * "pending ranges"). Writes go to them as well and each must acknowledge too (W + pending),
   * so that no write acknowledged during the hand-over is missing on the new owner. Reads keep
   * using `ring`. Called on every write; must be cheap when nothing is moving.
   * @default no pending replicas
   */
  pendingReplicas?: (key: Uint8Array) => readonly string[];
  /** Liveness and this node's id (`membership.localId`). */
  membership: MembershipView;
  /** This node's replica data: the coordinator's own copy is read and merged here. */
  store: ReplicaStore;
  /** The other replicas. */
  transport: ReplicaTransport;
  options?: QuorumOptions;
  /** @default systemClock */
  clock?: Clock;
  /** Encodes contexts and sets; must match the cluster's codec limits. @default createCodec() */
  codec?: Codec;
  /** Shared with this node's Replica and HintedHandoff. @default a new QuorumStats */
  stats?: QuorumStats;
  /** @default silentLogger */
  logger?: QuorumLogger;
}

/**
 * The Dynamo-style coordinator of one node: serves get / put / delete for any key at a per-request
 * consistency level, over the key's N replicas (ring preference list), with read repair and
 * sloppy quorums (hinted writes to substitutes when replicas are down). Transport-agnostic: the
 * network comes in through `ReplicaTransport`, the local data through `ReplicaStore`.
 *
 * Routing: writes must be coordinated by one of the key's replicas (`isReplica(key)`; normally
 * `coordinatorFor(key)`, the first live one). A write elsewhere rejects with NotCoordinatorError
 * and the server forwards it. Reads may be coordinated by any node.
 */
export class Coordinator {
  readonly options: ResolvedQuorumOptions;
  readonly localId: string;
  private readonly core: CoordinatorCore;
  private readonly statsRef: QuorumStats;
  private readonly ringSource: () => HashRing;
  private readonly membership: MembershipView;
  private readonly stopController = new AbortController();
  /** Scopes of requests in progress; stop() ends them (one Set, not a listener per request). */
  private readonly scopes = new Set<RequestScope<unknown>>();
  /** Reads coordinated so far (for `readAllShare`). */
  private reads = 0;

  constructor(init: CoordinatorInit) {
    if (typeof init !== "object" || init === null) {
      throw new InvalidQuorumOptionsError(
        `coordinator init must be an object, got ${describe(init)}`,
      );
    }
    for (const field of ["ring", "membership", "store", "transport"] as const) {
      if (init[field] === undefined || init[field] === null) {
        throw new InvalidQuorumOptionsError(`coordinator init is missing ${field}`);
      }
    }
    this.options = resolveQuorumOptions(init.options);
    const ring = init.ring;
    this.ringSource = typeof ring === "function" ? ring : () => ring;
    this.membership = init.membership;
    this.localId = init.membership.localId;
    if (typeof this.localId !== "string" || this.localId === "") {
      throw new InvalidQuorumOptionsError("membership.localId must be a non-empty string");
    }
    this.statsRef = init.stats ?? new QuorumStats();
    const clock = init.clock ?? systemClock;
    const localId = this.localId;
    const membership = this.membership;
    this.core = {
      localId,
      options: this.options,
      store: init.store,
      transport: init.transport,
      clock,
      codec: init.codec ?? createCodec(),
      stats: this.statsRef,
      logger: init.logger ?? silentLogger,
      lock: new KeyLock(),
      ring: this.ringSource,
      pendingReplicas: init.pendingReplicas ?? (() => NO_PENDING),
      readAll: () => {
        const share = this.options.readAllShare;
        if (share >= 1) return true;
        if (share <= 0) return false;
        return this.reads++ % Math.max(1, Math.round(1 / share)) === 0;
      },
      isAlive: (id) => id === localId || membership.isAlive(id),
      openScope: <T>(
        timeoutMs: number,
        signal: AbortSignal | undefined,
        onDeadline: () => Error,
      ) => {
        const scope = new RequestScope<T>(clock, timeoutMs, signal, onDeadline, (s) =>
          this.scopes.delete(s as RequestScope<unknown>),
        );
        // A scope can finish inside its constructor (a signal that is already aborted).
        if (!scope.isFinished) this.scopes.add(scope as RequestScope<unknown>);
        return scope;
      },
    };
  }

  /** Requests in progress, their background work (writes past W, read repair) included. */
  get activeOperations(): number {
    return this.scopes.size;
  }

  /** The key's N replicas (fewer on a smaller ring), first replica first. */
  preferenceList(key: QuorumKey): string[] {
    const bytes = keyBytes(key, this.options.maxKeyBytes);
    return this.ringSource().preferenceList(bytes, this.options.replicas);
  }

  /**
   * The node that should coordinate a write of `key`: the first replica in the preference list
   * that is alive per the membership view (this node counts as alive). `undefined` when none is.
   * The server forwards requests for keys whose coordinator is another node.
   */
  coordinatorFor(key: QuorumKey): string | undefined {
    return this.preferenceList(key).find((id) => this.core.isAlive(id));
  }

  /** Whether this node is one of the key's replicas, and so may coordinate its writes. */
  isReplica(key: QuorumKey): boolean {
    return this.preferenceList(key).includes(this.localId);
  }

  /** Reads `key` from R replicas (or the request's consistency level). */
  get(key: QuorumKey, options: RequestOptions = {}): Promise<GetResult> {
    this.statsRef.requestsGet++;
    return this.counted(() => {
      const bytes = keyBytes(key, this.options.maxKeyBytes);
      const o = checkRequestOptions(options, this.options.timeoutMs);
      this.checkRunning(o.signal);
      return runRead(this.core, {
        key: bytes,
        needed: replicasNeeded(o.consistency, this.options.replicas, this.options.readQuorum),
        policy: o.conflictPolicy ?? this.options.conflictPolicy,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
      });
    });
  }

  /** Writes `value` to `key` on W replicas (or the request's consistency level). */
  put(key: QuorumKey, value: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    this.statsRef.requestsPut++;
    return this.counted(() => {
      if (!(value instanceof Uint8Array)) {
        throw new InvalidArgumentError(
          "value",
          `value must be a Uint8Array, got ${describe(value)}`,
        );
      }
      if (value.byteLength > this.options.maxValueBytes) {
        throw new InvalidArgumentError(
          "value",
          `value is ${value.byteLength} bytes, over the limit of ${this.options.maxValueBytes} bytes (maxValueBytes)`,
        );
      }
      return this.write(key, value, options);
    });
  }

  /** Deletes `key` (writes a tombstone) on W replicas (or the request's consistency level). */
  delete(key: QuorumKey, options: WriteOptions = {}): Promise<WriteResult> {
    this.statsRef.requestsDelete++;
    return this.counted(() => this.write(key, null, options));
  }

  /** Counters of this coordinator (and of the Replica / HintedHandoff sharing its stats). */
  stats(): QuorumStatsSnapshot {
    return this.statsRef.snapshot();
  }

  /**
   * Rejects every request in progress with AbortedError, stops their background work, and
   * rejects new requests. Idempotent.
   */
  stop(): void {
    if (this.stopController.signal.aborted) return;
    const reason = new AbortedError("the coordinator was stopped");
    this.stopController.abort(reason);
    for (const scope of [...this.scopes]) scope.stop(reason);
  }

  private write(
    key: QuorumKey,
    value: Uint8Array | null,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const bytes = keyBytes(key, this.options.maxKeyBytes);
    const o = checkRequestOptions(options, this.options.timeoutMs);
    const clientContext = this.decodeContext(options.context);
    this.checkRunning(o.signal);
    return runWrite(this.core, {
      key: bytes,
      value,
      clientContext,
      level: o.consistency,
      needed: replicasNeeded(o.consistency, this.options.replicas, this.options.writeQuorum),
      policy: o.conflictPolicy ?? this.options.conflictPolicy,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
    });
  }

  private decodeContext(token: unknown): VersionVector | undefined {
    if (token === undefined) return undefined;
    if (!(token instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        "context",
        `context must be a Uint8Array, got ${describe(token)}`,
      );
    }
    if (token.byteLength === 0) return undefined;
    if (token.byteLength > this.options.maxContextBytes) {
      throw new InvalidArgumentError(
        "context",
        `context token is ${token.byteLength} bytes, over the limit of ${this.options.maxContextBytes} bytes (maxContextBytes)`,
      );
    }
    try {
      return this.core.codec.decodeContext(token);
    } catch (e) {
      if (isInvalidContextError(e) || isLimitExceededError(e)) {
        throw new InvalidArgumentError(
          "context",
          `malformed context token: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      throw e;
    }
  }

  private checkRunning(signal: AbortSignal | undefined): void {
    if (this.stopController.signal.aborted) {
      throw new AbortedError("the coordinator was stopped", {
        cause: this.stopController.signal.reason,
      });
    }
    if (signal?.aborted) {
      throw new AbortedError("request aborted by the caller", { cause: signal.reason });
    }
  }

  /** Runs a request, turning synchronous throws into rejections and counting failures. */
  private counted<T>(fn: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = fn();
    } catch (e) {
      promise = Promise.reject(e);
    }
    return promise.catch((e: unknown) => {
      this.statsRef.countFailure(e);
      throw e;
    });
  }
}
