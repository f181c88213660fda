import type { SiblingSet } from "@distkv/vclock";

/**
 * A sibling set on its way to a replica, in both forms: the coordinator encodes it once and every
 * replica call may use whichever form its transport needs (the network sends `bytes`; an
 * in-process path uses `set`). Both always describe the same set.
 */
export interface SiblingPayload {
  readonly set: SiblingSet<Uint8Array>;
  /** `set` encoded with @distkv/vclock's `encodeSiblingSet` (the coordinator's codec). */
  readonly bytes: Uint8Array;
}

/** Per-call options every transport method gets. */
export interface ReplicaCallOptions {
  /**
   * Aborts when the request's deadline passes or its component stops. The call must then settle
   * promptly (reject); its effect on the replica may or may not have happened. A transport
   * whose calls end by `timeoutMs` on their own and are failed when it closes need not read it
   * (reading it creates it).
   */
  readonly signal: AbortSignal;
  /** The request's deadline, in the coordinator clock's `nowMs()` terms. */
  readonly deadlineMs: number;
  /** Milliseconds left until the deadline when the call was made (for a wire `timeout_ms`). */
  readonly timeoutMs: number;
}

export interface ReplicaWriteOptions extends ReplicaCallOptions {
  /**
   * Set on a sloppy-quorum write: the receiver is a substitute and must store the write as a
   * hint for this node (`Replica.write` does), not in its own data.
   */
  readonly hintFor?: string;
}

/**
 * How the coordinator reaches other replicas (the peer channel in the server, an in-memory
 * network in tests). The coordinator never calls it for its own node: it reads and merges its
 * own copy through its `ReplicaStore`, under a per-key lock (see Coordinator). A transport that
 * routes `localId` to the local `Replica` anyway is harmless.
 *
 * Any rejection counts as "this replica did not answer" (the coordinator records the error as
 * the failure's cause); there is no retry inside a request.
 */
export interface ReplicaTransport {
  /**
   * Delivers a write: the receiver merges `payload` into what it stores for `key` (or into its
   * hint store when `hintFor` names another node) and resolves once that is durable.
   */
  write(
    nodeId: string,
    key: Uint8Array,
    payload: SiblingPayload,
    options: ReplicaWriteOptions,
  ): Promise<void>;
  /** What the replica stores for `key`; `undefined` when it stores nothing. */
  read(
    nodeId: string,
    key: Uint8Array,
    options: ReplicaCallOptions,
  ): Promise<SiblingSet<Uint8Array> | undefined>;
}
